"""Each consumed event through the real consumer on RabbitMQ, delivered twice, applied once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from chassis.contracts.documents import DocumentOpened
from chassis.contracts.identity import AccountActivated, ApprenticeAccountPrepared
from chassis.events import dlq
from chassis.events.envelope import Envelope, new_envelope
from chassis.testing.publishing import publish_envelopes
from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime

PREPARED = ApprenticeAccountPrepared.TYPE
ACTIVATED = AccountActivated.TYPE
OPENED = DocumentOpened.TYPE
ACTIVATION_CODE = "Z8PK-3MWQ-7TXV"

pytestmark = pytest.mark.usefixtures("running_consumer")


def handled(event_type: str, outcome: str) -> float:
    labels = {"service": "training-records", "type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("bp_events_handled_total", labels) or 0.0


def publish_twice(runtime: TrainingRecordsRuntime, event_type: str, payload: dict[str, Any]) -> Envelope:
    """Deliver the same event (same id) twice, as a broker may after a lost ack."""
    envelope = new_envelope(
        producer=event_type.split(".")[0], event_type=event_type, subject="x", payload=payload
    )
    publish_envelopes(runtime.broker, envelope, times=2)
    return envelope


def inbox_rows(runtime: TrainingRecordsRuntime, event_id: str) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(orm.inbox).where(orm.inbox.c.event_id == event_id)
        ).scalar_one()


@pytest.fixture
def contract(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    response = client.post("/contracts", json=registration_body(), headers=clerk)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def delivered_twice(
    runtime: TrainingRecordsRuntime, wait_until: Callable[..., None]
) -> Callable[..., Envelope]:
    """Publish twice and wait until the consumer applied it once and dropped the duplicate."""

    def deliver(event_type: str, payload: dict[str, Any]) -> Envelope:
        duplicates_before = handled(event_type, "duplicate")
        envelope = publish_twice(runtime, event_type, payload)
        wait_until(lambda: handled(event_type, "duplicate") == duplicates_before + 1)
        assert inbox_rows(runtime, envelope.id) == 1
        return envelope

    return deliver


def test_prepared_account_shows_number_and_state_and_the_code_is_stored_nowhere(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    contract: dict[str, Any],
    delivered_twice: Callable[..., Envelope],
) -> None:
    assert contract["apprentice"]["account_state"] == "none"
    delivered_twice(
        PREPARED,
        {
            "account_id": str(uuid.uuid4()),
            "contract_id": contract["id"],
            "apprentice_number": "20260555",
            "activation_code": ACTIVATION_CODE,
            "activation_expires_at": "2026-12-24T12:00:00+00:00",
            "email": "max.mustermann@example.org",
        },
    )
    apprentice = client.get(f"/contracts/{contract['id']}", headers=clerk).json["apprentice"]
    assert (apprentice["apprentice_number"], apprentice["account_state"]) == ("20260555", "prepared")

    with runtime.engine.connect() as connection:
        for table in orm.metadata.sorted_tables:
            if table is orm.outbox:
                continue
            for row in connection.execute(sa.select(table)):
                assert ACTIVATION_CODE not in repr(tuple(row)), f"activation code stored in {table.name}"


def test_activation_makes_the_account_active(
    client: FlaskClient,
    auth: Callable[..., dict[str, str]],
    delivered_twice: Callable[..., Envelope],
) -> None:
    activated_at = datetime(2026, 9, 3, 18, 45, 12, tzinfo=UTC)
    delivered_twice(
        ACTIVATED,
        {
            "account_id": str(uuid.uuid4()),
            "apprentice_number": "20260001",  # the demo apprentice
            "email": "azubi@demo.example",
            "activated_at": activated_at.isoformat(),
        },
    )
    own = auth("apprentice", apprentice_number="20260001")
    apprentice = client.get("/contracts", headers=own).json["items"][0]["apprentice"]
    assert apprentice["account_state"] == "active"
    assert apprentice["account_activated_at"] == activated_at.isoformat()


def test_first_opening_of_the_confirmation_is_shown_to_the_company(
    client: FlaskClient,
    auth: Callable[..., dict[str, str]],
    contract: dict[str, Any],
    delivered_twice: Callable[..., Envelope],
) -> None:
    def opened(recipient: str, at: datetime) -> dict[str, Any]:
        return {
            "document_id": str(uuid.uuid4()),
            "kind": "registration_confirmation",
            "contract_id": contract["id"],
            "recipient_kind": recipient,
            "opened_at": at.isoformat(),
            "opened_by": str(uuid.uuid4()),
        }

    first = datetime(2026, 9, 2, 7, 5, 30, tzinfo=UTC)
    delivered_twice(OPENED, opened("apprentice", first))
    delivered_twice(OPENED, opened("apprentice", datetime(2026, 9, 5, 12, 0, tzinfo=UTC)))

    company_admin = auth(company_roles={"4711001": ["admin"]})
    listed = client.get("/contracts", headers=company_admin).json["items"]
    shown = next(item for item in listed if item["id"] == contract["id"])
    assert shown["confirmation_opened_at"] == {"apprentice": first.isoformat(), "company": None}


def test_event_for_an_unknown_contract_is_dead_lettered_and_changes_nothing(
    runtime: TrainingRecordsRuntime, wait_until: Callable[..., None], count_rows: Callable[[], dict[str, int]]
) -> None:
    before = count_rows()
    publish_twice(
        runtime,
        OPENED,
        {
            "document_id": str(uuid.uuid4()),
            "kind": "registration_confirmation",
            "contract_id": str(uuid.uuid4()),
            "recipient_kind": "company",
            "opened_at": "2026-09-02T07:05:30+00:00",
            "opened_by": str(uuid.uuid4()),
        },
    )
    queue = runtime.broker.queue_name("training-records", OPENED)
    wait_until(lambda: len(dlq.inspect(runtime.broker, queue)) == 2, timeout=30)
    assert count_rows() == before


def test_a_trainers_account_is_invited_then_active_in_the_trainer_list(
    client: FlaskClient,
    clerk: dict[str, str],
    auth: Callable[..., dict[str, str]],
    delivered_twice: Callable[..., Envelope],
) -> None:
    company = "4711001"
    body = {"first_name": "Tina", "last_name": "Trainer", "email": "tina@example.org", "qualified": True}
    trainer = client.post(f"/companies/{company}/trainers", json=body, headers=clerk).json
    admin = auth(company_roles={company: ["admin"]})

    def state() -> str:
        listed = client.get(f"/companies/{company}/trainers", headers=admin).json["items"]
        return next(t["account_state"] for t in listed if t["id"] == trainer["id"])

    assert state() == "none"
    account_id = str(uuid.uuid4())
    delivered_twice(
        "identity.account.invited",
        {
            "account_id": account_id,
            "email": "tina@example.org",
            "name": "Tina Trainer",
            "account_status": "invited",
            "invite_url": "https://portal.example/auth/invitation/one-time-token",
            "expires_at": "2026-12-01T12:00:00+00:00",
            "company_number": company,
            "company_role": "trainer",
            "apprentice_number": None,
            "trainer_id": trainer["id"],
        },
    )
    assert state() == "invited"
    delivered_twice(
        ACTIVATED,
        {
            "account_id": account_id,
            "apprentice_number": None,
            "email": "tina@example.org",
            "activated_at": datetime.now(UTC).isoformat(),
        },
    )
    assert state() == "active"

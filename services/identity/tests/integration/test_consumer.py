"""The consumer prepares the apprentice's account from training.contract.registered
(real RabbitMQ and PostgreSQL); the prepared event leaves through the outbox."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from chassis.events.bus import Publisher
from chassis.events.catalogue import validate_payload
from chassis.events.envelope import new_envelope
from chassis.testing.running import RunningRuntime
from chassis.testing.waiting import wait_until
from identity.adapters.orm import accounts, inbox, outbox
from identity.bootstrap import IdentityRuntime
from identity.entrypoints.app import build_app

REGISTERED = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"


@pytest.fixture
def consuming_runtime(make_runtime, amqp_url: str) -> Iterator[IdentityRuntime]:
    runtime = make_runtime(BP_BUS_URL=amqp_url)
    consumer = runtime.consumer()
    consumer.declare()
    service = RunningRuntime(runtime)
    service.run(consumer.run_until)
    yield runtime
    service.close()


def publish(runtime: IdentityRuntime, payload: dict, event_id: str | None = None) -> str:
    envelope = new_envelope(
        producer="training-records", event_type=REGISTERED, subject=payload["contract_id"], payload=payload
    )
    body = envelope.to_json()
    if event_id:
        body = json.dumps(json.loads(body) | {"id": event_id})
    publisher = Publisher(runtime.broker)
    publisher.publish(body, routing_key=REGISTERED, message_id=event_id or envelope.id)
    publisher.close()
    return event_id or envelope.id


def prepared_events(runtime: IdentityRuntime) -> list[dict]:
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == PREPARED).order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def test_registered_contract_prepares_the_account(consuming_runtime, contract_payload) -> None:
    runtime = consuming_runtime
    contract = contract_payload()
    publish(runtime, contract)
    wait_until(lambda: len(prepared_events(runtime)) == 1)
    [envelope] = prepared_events(runtime)
    assert envelope["producer"] == "identity"
    payload = validate_payload(PREPARED, envelope["version"], envelope["payload"])  # the catalogued schema
    assert str(payload["contract_id"]) == contract["contract_id"]
    assert payload["email"] == contract["apprentice"]["email"]
    assert payload["apprentice_number"] == "20260101"  # the first number above the demo range
    assert len(payload["activation_code"]) == 14

    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(accounts).where(accounts.c.id == str(payload["account_id"]))).one()
    assert row.status == "pending_activation"
    assert row.apprentice_number == "20260101"
    assert row.roles == ["apprentice"]
    # Only a hash of the code is stored.
    assert payload["activation_code"] not in row.activation_code_hash


def test_redelivered_event_prepares_nothing_twice(consuming_runtime, contract_payload) -> None:
    runtime = consuming_runtime
    event_id = str(uuid.uuid4())
    contract = contract_payload()
    publish(runtime, contract, event_id)
    wait_until(lambda: len(prepared_events(runtime)) == 1)
    publish(runtime, contract, event_id)
    with runtime.engine.connect() as conn:
        wait_until(lambda: conn.execute(sa.select(sa.func.count()).select_from(inbox)).scalar() == 1)
    time.sleep(0.5)
    assert len(prepared_events(runtime)) == 1


def test_second_contract_of_a_pending_apprentice_reissues_the_code(
    consuming_runtime, contract_payload
) -> None:
    runtime = consuming_runtime
    first = contract_payload()
    publish(runtime, first)
    wait_until(lambda: len(prepared_events(runtime)) == 1)
    publish(runtime, contract_payload(email=first["apprentice"]["email"]))
    wait_until(lambda: len(prepared_events(runtime)) == 2)
    one, two = (e["payload"] for e in prepared_events(runtime))
    assert one["account_id"] == two["account_id"]
    assert one["apprentice_number"] == two["apprentice_number"]
    assert one["activation_code"] != two["activation_code"]


def test_prepared_code_activates_the_account(consuming_runtime, contract_payload, form_post_for) -> None:
    runtime = consuming_runtime
    publish(runtime, contract_payload())
    wait_until(lambda: len(prepared_events(runtime)) == 1)
    payload = prepared_events(runtime)[0]["payload"]
    post = form_post_for(build_app(runtime))
    response = post(
        "/activate",
        apprentice_number=payload["apprentice_number"],
        activation_code=payload["activation_code"],
        password="Mein-neues-Passwort-2026",
        password_repeat="Mein-neues-Passwort-2026",
    )
    assert response.status_code == 302
    assert (
        post("/login", login=payload["apprentice_number"], password="Mein-neues-Passwort-2026").status_code
        == 302
    )

"""Issuing on PostgreSQL under concurrency: nothing is held while a PDF renders, nothing is issued twice.

The handlers run through the real message bus and unit of work; the renderer is a probe
that, while "rendering", looks at the database from a connection of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.config import ServiceSettings
from chassis.db import make_engine
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from documents.adapters import orm
from documents.bootstrap import DocumentsRuntime, bootstrap
from documents.domain.model import Confirmation

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
ISSUED = "documents.document.issued"


class ProbeRenderer:
    """Renders a stand-in PDF; first runs ``during`` (if set) with the confirmation being rendered."""

    def __init__(self) -> None:
        self.rendered: list[Confirmation] = []
        self.during: Callable[[Confirmation], None] | None = None

    def registration_confirmation(self, confirmation: Confirmation) -> bytes:
        self.rendered.append(confirmation)
        if self.during is not None:
            self.during(confirmation)
        return f"%PDF-probe {confirmation.recipient_kind}".encode()


@pytest.fixture
def probe() -> ProbeRenderer:
    return ProbeRenderer()


@pytest.fixture
def runtime(service_settings: ServiceSettings, probe: ProbeRenderer) -> Iterator[DocumentsRuntime]:
    rt = bootstrap(service_settings, renderer=probe)
    rt.migrate()
    yield rt
    rt.engine.dispose()


@pytest.fixture
def observer(service_settings: ServiceSettings) -> Iterator[sa.Engine]:
    """A connection pool of its own, as another process would have."""
    engine = make_engine(service_settings.database_url)
    yield engine
    engine.dispose()


def deliver(runtime: DocumentsRuntime, event_type: str, payload: dict[str, Any]) -> str:
    envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
    return runtime.bus.handle_event(IncomingEvent(envelope, load_payload(event_type, 1, payload)))


def count(runtime: DocumentsRuntime, table: sa.Table, *where: Any) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def in_threads(*targets: Callable[[], object]) -> None:
    """Run the targets at once; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def run(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a delivery hung"
    if errors:
        raise errors[0]


def test_no_transaction_and_no_lock_is_held_while_rendering(
    runtime, probe, observer, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    contract_id = uuid.UUID(contract["contract_id"])
    seen: list[dict[str, Any]] = []

    def look(confirmation: Confirmation) -> None:
        with observer.connect() as conn:
            others = "pid <> pg_backend_pid() AND datname = current_database()"
            open_transactions = conn.execute(
                sa.text(f"SELECT count(*) FROM pg_stat_activity WHERE {others} AND xact_start IS NOT NULL")
            ).scalar_one()
            locks = conn.execute(
                sa.text(
                    f"SELECT count(*) FROM pg_locks WHERE pid IN (SELECT pid FROM pg_stat_activity WHERE {others})"
                )
            ).scalar_one()
            # The contract's turn is free: taking it does not wait.
            conn.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(
                sa.text(
                    "INSERT INTO contract_turns (contract_id, taken_at) VALUES (:id, now()) "
                    "ON CONFLICT (contract_id) DO UPDATE SET taken_at = excluded.taken_at"
                ),
                {"id": contract_id},
            )
            conn.rollback()
        seen.append({"kind": confirmation.recipient_kind, "transactions": open_transactions, "locks": locks})

    probe.during = look
    assert deliver(runtime, PREPARED, prepared_payload(contract["contract_id"])) == "handled"
    assert deliver(runtime, CONTRACT, contract) == "handled"

    assert seen == [
        {"kind": "company", "transactions": 0, "locks": 0},
        {"kind": "apprentice", "transactions": 0, "locks": 0},
    ]
    assert count(runtime, orm.documents) == 2


def test_concurrent_deliveries_of_one_contract_create_one_document(runtime, probe, contract_payload) -> None:
    contract = contract_payload()
    # Both deliveries render at the same time (neither waits for the other while rendering),
    # then both store: one stores the confirmation, the other finds it there.
    both_rendering = threading.Barrier(2, timeout=20)
    probe.during = lambda _confirmation: both_rendering.wait()

    outcomes: list[str] = []
    in_threads(
        lambda: outcomes.append(deliver(runtime, CONTRACT, contract)),
        lambda: outcomes.append(deliver(runtime, CONTRACT, contract)),  # same fact, another event id
    )

    assert outcomes == ["handled", "handled"]
    assert len(probe.rendered) == 2
    assert count(runtime, orm.documents) == 1
    assert count(runtime, orm.outbox, orm.outbox.c.event_type == ISSUED) == 1
    assert count(runtime, orm.contracts) == 1
    assert count(runtime, orm.inbox) == 2


def test_access_data_handled_while_the_contract_renders_still_gets_its_confirmation(
    runtime, probe, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    access_handled = threading.Event()

    def deliver_access_meanwhile(confirmation: Confirmation) -> None:
        if confirmation.recipient_kind == "company" and not access_handled.is_set():
            # Another worker handles the access data now; the contract is not stored yet.
            in_threads(lambda: deliver(runtime, PREPARED, prepared))
            access_handled.set()

    probe.during = deliver_access_meanwhile
    assert deliver(runtime, CONTRACT, contract) == "handled"

    assert access_handled.is_set()
    assert [c.recipient_kind for c in probe.rendered] == ["company", "apprentice"]
    assert count(runtime, orm.documents) == 2
    assert count(runtime, orm.pending_access) == 0
    assert count(runtime, orm.outbox, orm.outbox.c.event_type == ISSUED) == 2


@pytest.mark.parametrize("order", ["contract-first", "access-first"])
def test_contract_and_access_data_at_once_issue_both_confirmations(
    runtime, contract_payload, prepared_payload, order
) -> None:
    for _ in range(5):
        contract = contract_payload()
        prepared = prepared_payload(contract["contract_id"])
        deliveries = [
            lambda c=contract: deliver(runtime, CONTRACT, c),
            lambda p=prepared: deliver(runtime, PREPARED, p),
        ]
        if order == "access-first":
            deliveries.reverse()
        in_threads(*deliveries)
        with runtime.engine.connect() as conn:
            kinds = set(
                conn.scalars(
                    sa.select(orm.documents.c.recipient_kind).where(
                        orm.documents.c.contract_id == uuid.UUID(contract["contract_id"])
                    )
                )
            )
        assert kinds == {"company", "apprentice"}
    assert count(runtime, orm.pending_access) == 0

"""Issuing and first openings on PostgreSQL under concurrency.

Issuing: concurrent deliveries never issue a document twice, and both events of a contract
at once still issue both confirmations. First openings: the PDF renders with no transaction
open and nothing locked, and two first openings at once end with one stored rendering that
both answer. The handlers run through the real message bus and unit of work; the renderer
is a probe that numbers its renderings (so each differs) and can look at the database from a
connection of its own while "rendering".
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
from chassis.principal import Principal
from documents.adapters import orm
from documents.bootstrap import DocumentsRuntime, bootstrap
from documents.domain.commands import OpenDocument
from documents.domain.model import DocumentContent

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
ISSUED = "documents.document.issued"
OPENED = "documents.document.opened"

APPRENTICE = Principal(
    subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20269876"
)


class ProbeRenderer:
    """Renders a numbered stand-in PDF; first runs ``during`` (if set) with the content being rendered."""

    def __init__(self) -> None:
        self.rendered: list[DocumentContent] = []
        self.during: Callable[[DocumentContent], None] | None = None
        self._lock = threading.Lock()

    def render(self, content: DocumentContent) -> bytes:
        with self._lock:
            self.rendered.append(content)
            number = len(self.rendered)
        if self.during is not None:
            self.during(content)
        return f"%PDF-probe #{number} {content.fields['recipient_kind']}".encode()


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


def apprentice_document(runtime: DocumentsRuntime, contract_id: str) -> uuid.UUID:
    with runtime.engine.connect() as conn:
        return conn.execute(
            sa.select(orm.documents.c.id).where(
                orm.documents.c.contract_id == uuid.UUID(contract_id),
                orm.documents.c.recipient_kind == "apprentice",
            )
        ).scalar_one()


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
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_issuing_renders_nothing(runtime, probe, contract_payload, prepared_payload) -> None:
    contract = contract_payload()
    assert deliver(runtime, CONTRACT, contract) == "handled"
    assert deliver(runtime, PREPARED, prepared_payload(contract["contract_id"])) == "handled"
    assert probe.rendered == []
    assert count(runtime, orm.documents, orm.documents.c.sealed_data.is_not(None)) == 2
    assert count(runtime, orm.documents, orm.documents.c.rendered_at.is_(None)) == 2


def test_no_transaction_and_no_lock_is_held_while_rendering_on_the_first_opening(
    runtime, probe, observer, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    deliver(runtime, CONTRACT, contract)
    deliver(runtime, PREPARED, prepared_payload(contract["contract_id"]))
    document_id = apprentice_document(runtime, contract["contract_id"])
    seen: list[dict[str, Any]] = []

    def look(content: DocumentContent) -> None:
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
            # The document's row is free: locking it does not wait.
            conn.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(sa.text("SELECT id FROM documents WHERE id = :id FOR UPDATE"), {"id": document_id})
            conn.rollback()
        seen.append(
            {"kind": content.fields["recipient_kind"], "transactions": open_transactions, "locks": locks}
        )

    probe.during = look
    opened = runtime.bus.handle(OpenDocument(APPRENTICE, document_id))

    assert seen == [{"kind": "apprentice", "transactions": 0, "locks": 0}]
    assert opened.content == b"%PDF-probe #1 apprentice" and opened.first_opened_by == APPRENTICE.subject


def test_two_first_openings_at_once_store_one_rendering_and_answer_its_bytes(
    runtime, probe, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    deliver(runtime, CONTRACT, contract)
    deliver(runtime, PREPARED, prepared_payload(contract["contract_id"]))
    document_id = apprentice_document(runtime, contract["contract_id"])
    # Both openings render at the same time (neither waits for the other while rendering),
    # each to different bytes (#1, #2); then both store: one stores, the other finds its PDF.
    both_rendering = threading.Barrier(2, timeout=20)
    probe.during = lambda _content: both_rendering.wait()

    answers: list[bytes] = []
    in_threads(
        lambda: answers.append(runtime.bus.handle(OpenDocument(APPRENTICE, document_id)).content),
        lambda: answers.append(runtime.bus.handle(OpenDocument(APPRENTICE, document_id)).content),
    )

    assert len(probe.rendered) == 2
    with runtime.engine.connect() as conn:
        (stored,) = conn.execute(sa.select(orm.documents).where(orm.documents.c.id == document_id))
    assert stored.content in (b"%PDF-probe #1 apprentice", b"%PDF-probe #2 apprentice")
    assert answers == [stored.content, stored.content]
    assert stored.first_opened_by == APPRENTICE.subject
    assert count(runtime, orm.outbox, orm.outbox.c.event_type == OPENED) == 1

    probe.during = None
    assert runtime.bus.handle(OpenDocument(APPRENTICE, document_id)).content == stored.content
    assert len(probe.rendered) == 2  # later openings render nothing


def test_concurrent_deliveries_of_one_contract_create_one_document(runtime, contract_payload) -> None:
    contract = contract_payload()
    outcomes: list[str] = []
    for _ in range(5):
        in_threads(
            lambda: outcomes.append(deliver(runtime, CONTRACT, contract)),
            lambda: outcomes.append(deliver(runtime, CONTRACT, contract)),  # same fact, another event id
        )
    assert outcomes == ["handled"] * 10

    assert count(runtime, orm.documents) == 1
    assert count(runtime, orm.outbox, orm.outbox.c.event_type == ISSUED) == 1
    assert count(runtime, orm.contracts) == 1
    assert count(runtime, orm.inbox) == 10


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

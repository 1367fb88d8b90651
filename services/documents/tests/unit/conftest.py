"""Fakes for unit tests: the chassis' fake unit of work with documents' repositories, a renderer, a vault."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chassis.events.catalogue import load_payload
from chassis.events.envelope import Envelope, new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, inject_dependencies
from chassis.pagination import Page, PageRequest
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from documents.adapters.repository import CONTRACT_DOCUMENT_ORDER, DOCUMENT_ORDER
from documents.domain.model import (
    ConfirmationPolicy,
    ContractRecord,
    Document,
    DocumentContent,
    DocumentFilter,
    Opening,
    PendingAccess,
    Rendering,
    Scope,
    UnreadableSeal,
)
from documents.service_layer import handlers
from documents.service_layer.handlers import Issuing, Reading


class FakeContracts(FakeRepository[ContractRecord]):
    def __init__(self) -> None:
        super().__init__(key="contract_id")


class FakeDocuments(FakeRepository[Document]):
    def __init__(self) -> None:
        super().__init__(key="id")

    def get(self, key: Any, *, with_content: bool = False) -> Document | None:
        return super().get(key)

    def issued_for(self, contract_id: uuid.UUID, kind: str) -> frozenset[str]:
        return frozenset(
            d.recipient_kind for d in self.find(lambda d: (d.contract_id, d.kind) == (contract_id, kind))
        )

    def store_rendering(self, rendering: Rendering) -> bool:
        document = self.items[rendering.document_id]
        if document.content is not None:
            return False
        document.content, document.size = rendering.content, rendering.size
        document.sha256, document.rendered_at = rendering.sha256, rendering.rendered_at
        return True

    def unrendered(self, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        ids = sorted(d.id for d in self.items.values() if d.rendered_at is None)
        return [i for i in ids if after is None or i > after][:limit]

    def add_if_absent(self, document: Document) -> bool:
        # The unique key (contract, kind, recipient) of the real table.
        if self.first(
            lambda d: (
                (d.contract_id, d.kind, d.recipient_kind)
                == (document.contract_id, document.kind, document.recipient_kind)
            )
        ):
            return False
        self.add(document)
        return True

    def page_for(self, scope: Scope, filters: DocumentFilter, request: PageRequest) -> Page[Document]:
        def visible(d: Document) -> bool:
            if scope.everything:
                return True
            if d.recipient_kind == "company":
                return d.company_number in scope.company_numbers
            return scope.apprentice_number is not None and d.apprentice_number == scope.apprentice_number

        def wanted(d: Document) -> bool:
            return (
                (filters.unread is None or filters.unread == (d.first_opened_at is None))
                and filters.contract_id in (None, d.contract_id)
                and filters.company_number in (None, d.company_number)
                and filters.apprentice_number in (None, d.apprentice_number)
                and filters.recipient_kind in (None, d.recipient_kind)
            )

        if scope.empty:
            return Page()
        return self.page(lambda d: visible(d) and wanted(d), DOCUMENT_ORDER, request)

    def page_for_contract(self, contract_id: uuid.UUID, request: PageRequest) -> Page[Document]:
        return self.page(lambda d: d.contract_id == contract_id, CONTRACT_DOCUMENT_ORDER, request)

    def record_first_opening(self, opening: Opening) -> bool:
        document = self.items[opening.document_id]
        if document.first_opened_at is not None:
            return False
        document.first_opened_at = opening.opened_at
        document.first_opened_by = opening.opened_by
        return True


class FakePendingAccess(FakeRepository[PendingAccess]):
    def __init__(self) -> None:
        super().__init__(key="contract_id")

    def put(self, pending: PendingAccess) -> None:
        self.add(pending)

    def remove(self, contract_id: uuid.UUID) -> None:
        self.items.pop(contract_id, None)

    def purge_expired(self, now: datetime) -> int:
        expired = [key for key, p in self.items.items() if p.expires_at < now]
        for key in expired:
            del self.items[key]
        return len(expired)


@dataclass
class Database:
    """What the fake units of work share, like one database: repositories, committed events, inbox."""

    contracts: FakeContracts = field(default_factory=FakeContracts)
    documents: FakeDocuments = field(default_factory=FakeDocuments)
    pending_access: FakePendingAccess = field(default_factory=FakePendingAccess)
    events: list[Envelope] = field(default_factory=list)
    handled: set[tuple[str, str]] = field(default_factory=set)
    turns: list[uuid.UUID] = field(default_factory=list)  # contract ids, in the order turns were taken
    open_units: int = 0  # units of work inside their ``with`` block right now

    def events_of(self, event_type: str) -> list[Envelope]:
        return [e for e in self.events if e.type == event_type]


class DocumentsFakeUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: Database) -> None:
        super().__init__(contracts=db.contracts, documents=db.documents, pending_access=db.pending_access)
        self.db = db
        self.events = db.events
        self.handled = db.handled

    def __enter__(self) -> DocumentsFakeUnitOfWork:
        super().__enter__()
        self.db.open_units += 1
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.db.open_units -= 1
        super().__exit__(*exc_info)

    def take_turn(self, contract_id: uuid.UUID, at: datetime) -> None:
        assert self.db.open_units > 0, "a turn is taken inside a unit of work"
        self.db.turns.append(contract_id)


class FakeRenderer:
    """Records what it was asked to render, and whether a unit of work was open meanwhile.

    Every rendering answers different bytes (it is numbered), so a test can tell whose
    rendering an opening answered. ``while_rendering`` (if set) runs once during a
    rendering, e.g. to open the same document from elsewhere at that moment.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rendered: list[DocumentContent] = []
        self.units_open_while_rendering: list[int] = []
        self.while_rendering: Callable[[DocumentContent], None] | None = None

    def render(self, content: DocumentContent) -> bytes:
        self.rendered.append(content)
        number = len(self.rendered)
        self.units_open_while_rendering.append(self.db.open_units)
        if self.while_rendering is not None:
            hook, self.while_rendering = self.while_rendering, None
            hook(content)
        fields = content.fields
        code = (fields["access"] or {}).get("activation_code") or "-"
        return f"%PDF-fake #{number} {fields['recipient_kind']} {fields['contract']['contract_number']} {code}".encode()


class FakeVault:
    """Reversible but never the plain text, like the real one."""

    def seal(self, plain: str) -> bytes:
        return b"sealed:" + plain[::-1].encode()

    def open(self, sealed: bytes) -> str:
        if not sealed.startswith(b"sealed:"):
            raise UnreadableSeal("not sealed by this vault")
        return sealed[len(b"sealed:") :].decode()[::-1]


NOW = datetime(2026, 8, 3, 9, 30, tzinfo=UTC)


@dataclass
class World:
    """Everything a unit test drives: fakes plus the real handlers, dispatched by the real message bus."""

    db: Database = field(default_factory=Database)
    cutoff: date = date(2018, 2, 1)
    now: datetime = NOW
    renderer: FakeRenderer = field(init=False)

    def __post_init__(self) -> None:
        self.renderer = FakeRenderer(self.db)

    @property
    def issuing(self) -> Issuing:
        return Issuing(
            policy=ConfirmationPolicy(self.cutoff),
            vault=FakeVault(),
            seals=FakeVault(),
            activation_url="https://portal.example/auth/activate",
            clock=lambda: self.now,
        )

    @property
    def reading(self) -> Reading:
        return Reading(renderer=self.renderer, seals=FakeVault(), clock=lambda: self.now)

    def uow(self) -> DocumentsFakeUnitOfWork:
        return DocumentsFakeUnitOfWork(self.db)

    @property
    def bus(self) -> MessageBus[Any]:
        dependencies = {"issuing": self.issuing, "reading": self.reading}
        return MessageBus(
            self.uow,  # type: ignore[arg-type]
            consumer_name="documents",
            command_handlers=inject_dependencies(handlers.COMMAND_HANDLERS, dependencies),
            event_handlers=inject_dependencies(handlers.EVENT_HANDLERS, dependencies),
        )

    def deliver(self, event_type: str, payload: dict[str, Any], *, event_id: str | None = None) -> str:
        """Handle an event as the consumer does: payload loaded by its contract, then the bus."""
        envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
        if event_id is not None:
            envelope = replace(envelope, id=event_id)
        return self.bus.handle_event(IncomingEvent(envelope, load_payload(event_type, 1, payload)))

    def handle(self, message: Any) -> Any:
        return self.bus.handle(message)

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def sealed_content(self, document: Document) -> DocumentContent:
        """What ``document`` was sealed with, opened as the service opens it."""
        assert document.sealed_data is not None and document.sealed_sha256 is not None
        return DocumentContent.from_canonical(
            FakeVault().open(document.sealed_data), sha256=document.sealed_sha256
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def make_document() -> Callable[..., Document]:
    def make(**overrides: Any) -> Document:
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "kind": "registration_confirmation",
            "title": "Eintragungsbestätigung 2026-000123",
            "contract_id": uuid.uuid4(),
            "recipient_kind": "apprentice",
            "company_number": "4711001",
            "apprentice_number": "20269876",
            "recipient_name": "Jonas Jüngling",
            "recipient_email": "jonas@azubi.example",
            "filename": "x.pdf",
            "media_type": "application/pdf",
            "issued_at": NOW,
            # Rendered when it was issued, as documents were before they were sealed.
            "content": b"pdf",
            "size": 3,
            "sha256": hashlib.sha256(b"pdf").hexdigest(),
            "rendered_at": NOW,
        }
        values.update(overrides)
        return Document(**values)

    return make

"""Fakes for unit tests: in-memory repositories, a unit of work, a renderer and a vault."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chassis.events.catalogue import check_outgoing, validate_payload
from chassis.events.consumer import IncomingEvent
from chassis.events.envelope import new_envelope
from documents.adapters.repository import ContractRepository, DocumentRepository, PendingAccessRepository
from documents.domain.model import (
    Confirmation,
    ConfirmationPolicy,
    ContractRecord,
    Document,
    DocumentFilter,
    Opening,
    PendingAccess,
    Scope,
)
from documents.service_layer.handlers import make_handlers
from documents.service_layer.services import Issuing


class FakeContracts(ContractRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, ContractRecord] = {}

    def get(self, contract_id: uuid.UUID) -> ContractRecord | None:
        return self.rows.get(contract_id)

    def add(self, contract: ContractRecord) -> None:
        self.rows[contract.contract_id] = contract


class FakeDocuments(DocumentRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Document] = {}

    def get(self, document_id: uuid.UUID, *, with_content: bool = False) -> Document | None:
        return self.rows.get(document_id)

    def find(self, contract_id: uuid.UUID, kind: str, recipient_kind: str) -> Document | None:
        return next(
            (
                d
                for d in self.rows.values()
                if (d.contract_id, d.kind, d.recipient_kind) == (contract_id, kind, recipient_kind)
            ),
            None,
        )

    def add(self, document: Document) -> None:
        # The unique constraint of the real table.
        assert self.find(document.contract_id, document.kind, document.recipient_kind) is None  # type: ignore[arg-type]
        self.rows[document.id] = document

    def list(self, scope: Scope, filters: DocumentFilter) -> list[Document]:
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

        found = [d for d in self.rows.values() if visible(d) and wanted(d)]
        return sorted(found, key=lambda d: d.issued_at, reverse=True)[: filters.limit]

    def for_contract(self, contract_id: uuid.UUID) -> list[Document]:
        return [d for d in self.rows.values() if d.contract_id == contract_id]

    def record_first_opening(self, opening: Opening) -> bool:
        document = self.rows[opening.document_id]
        if document.first_opened_at is not None:
            return False
        document.first_opened_at = opening.opened_at
        document.first_opened_by = opening.opened_by
        return True


class FakePending(PendingAccessRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, PendingAccess] = {}

    def get(self, contract_id: uuid.UUID) -> PendingAccess | None:
        return self.rows.get(contract_id)

    def put(self, pending: PendingAccess) -> None:
        self.rows[pending.contract_id] = pending

    def remove(self, contract_id: uuid.UUID) -> None:
        self.rows.pop(contract_id, None)

    def purge_expired(self, now: datetime) -> int:
        expired = [key for key, p in self.rows.items() if p.expires_at < now]
        for key in expired:
            del self.rows[key]
        return len(expired)


@dataclass
class Emitted:
    type: str
    subject: str
    payload: dict[str, Any]


class FakeUnitOfWork:
    """Keeps state across units of work like a database; events count only once committed."""

    def __init__(self) -> None:
        self.contracts = FakeContracts()
        self.documents = FakeDocuments()
        self.pending_access = FakePending()
        self.committed: list[Emitted] = []
        self._pending_events: list[Emitted] = []
        self.locked: list[uuid.UUID] = []

    def __enter__(self) -> FakeUnitOfWork:
        self._pending_events = []
        return self

    def __exit__(self, *exc: Any) -> None:
        self._pending_events = []

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Emitted:
        check_outgoing(event_type, version, payload)  # the real contract check
        event = Emitted(event_type, subject, payload)
        self._pending_events.append(event)
        return event

    def commit(self) -> None:
        self.committed.extend(self._pending_events)
        self._pending_events = []

    def lock_contract(self, contract_id: uuid.UUID) -> None:
        self.locked.append(contract_id)

    def events(self, event_type: str) -> list[Emitted]:
        return [e for e in self.committed if e.type == event_type]


class FakeRenderer:
    """Records what it was asked to render and returns a recognisable stand-in for the PDF."""

    def __init__(self) -> None:
        self.rendered: list[Confirmation] = []

    def registration_confirmation(self, confirmation: Confirmation) -> bytes:
        self.rendered.append(confirmation)
        code = confirmation.access.activation_code if confirmation.access else "-"
        return (
            f"%PDF-fake {confirmation.recipient_kind} {confirmation.contract.contract_number} {code}".encode()
        )


class FakeVault:
    """Reversible but never the plain text, like the real one."""

    def seal(self, plain: str) -> bytes:
        return b"sealed:" + plain[::-1].encode()

    def open(self, sealed: bytes) -> str:
        assert sealed.startswith(b"sealed:")
        return sealed[len(b"sealed:") :].decode()[::-1]


NOW = datetime(2026, 8, 3, 9, 30, tzinfo=UTC)


@dataclass
class World:
    """Everything a unit test drives: fakes plus the real handlers wired to them."""

    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    renderer: FakeRenderer = field(default_factory=FakeRenderer)
    cutoff: date = date(2018, 2, 1)
    now: datetime = NOW

    @property
    def issuing(self) -> Issuing:
        return Issuing(
            policy=ConfirmationPolicy(self.cutoff),
            renderer=self.renderer,
            vault=FakeVault(),
            activation_url="https://portal.example/auth/activate",
            clock=lambda: self.now,
        )

    def deliver(self, event_type: str, payload: dict[str, Any], *, event_id: str | None = None) -> None:
        """Handle an event as the consumer does: payload loaded by its contract, then commit."""
        envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
        if event_id is not None:
            envelope = replace(envelope, id=event_id)
        event = IncomingEvent(envelope, validate_payload(event_type, 1, payload))
        with self.uow as uow:
            make_handlers(self.issuing)[event_type](event, uow)
            uow.commit()

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)


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
            "size": 3,
            "sha256": "0" * 64,
            "issued_at": NOW,
            "content": b"pdf",
        }
        values.update(overrides)
        return Document(**values)

    return make

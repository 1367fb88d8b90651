"""Repositories: the abstract ports the service layer uses and their SQLAlchemy adapters."""

from __future__ import annotations

import abc
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, undefer

from documents.adapters import orm
from documents.domain.model import (
    ContractRecord,
    Document,
    DocumentFilter,
    Opening,
    PendingAccess,
    Scope,
)


class ContractRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, contract_id: uuid.UUID) -> ContractRecord | None: ...

    @abc.abstractmethod
    def add(self, contract: ContractRecord) -> None: ...


class DocumentRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, document_id: uuid.UUID, *, with_content: bool = False) -> Document | None: ...

    @abc.abstractmethod
    def find(self, contract_id: uuid.UUID, kind: str, recipient_kind: str) -> Document | None: ...

    @abc.abstractmethod
    def add(self, document: Document) -> None: ...

    @abc.abstractmethod
    def list(self, scope: Scope, filters: DocumentFilter) -> list[Document]: ...

    @abc.abstractmethod
    def for_contract(self, contract_id: uuid.UUID) -> list[Document]: ...

    @abc.abstractmethod
    def record_first_opening(self, opening: Opening) -> bool:
        """Store the read receipt unless one exists; True if this call stored it."""


class PendingAccessRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, contract_id: uuid.UUID) -> PendingAccess | None: ...

    @abc.abstractmethod
    def put(self, pending: PendingAccess) -> None:
        """Keep the newest access data for a contract (a re-prepared account replaces the old code)."""

    @abc.abstractmethod
    def remove(self, contract_id: uuid.UUID) -> None: ...

    @abc.abstractmethod
    def purge_expired(self, now: datetime) -> int: ...


class SqlContractRepository(ContractRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, contract_id: uuid.UUID) -> ContractRecord | None:
        return self.session.get(ContractRecord, contract_id)

    def add(self, contract: ContractRecord) -> None:
        self.session.add(contract)


class SqlDocumentRepository(DocumentRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, document_id: uuid.UUID, *, with_content: bool = False) -> Document | None:
        options = [undefer(Document.content)] if with_content else []  # type: ignore[arg-type]
        return self.session.get(Document, document_id, options=options)

    def find(self, contract_id: uuid.UUID, kind: str, recipient_kind: str) -> Document | None:
        table = orm.documents
        return self.session.scalars(
            sa.select(Document).where(
                table.c.contract_id == contract_id,
                table.c.kind == kind,
                table.c.recipient_kind == recipient_kind,
            )
        ).first()

    def add(self, document: Document) -> None:
        self.session.add(document)

    def list(self, scope: Scope, filters: DocumentFilter) -> list[Document]:
        if scope.empty:
            return []
        table = orm.documents
        query = sa.select(Document)
        if not scope.everything:
            owned = []
            if scope.company_numbers:
                owned.append(
                    sa.and_(
                        table.c.recipient_kind == "company",
                        table.c.company_number.in_(sorted(scope.company_numbers)),
                    )
                )
            if scope.apprentice_number:
                owned.append(
                    sa.and_(
                        table.c.recipient_kind == "apprentice",
                        table.c.apprentice_number == scope.apprentice_number,
                    )
                )
            query = query.where(sa.or_(*owned))
        if filters.unread is True:
            query = query.where(table.c.first_opened_at.is_(None))
        elif filters.unread is False:
            query = query.where(table.c.first_opened_at.is_not(None))
        if filters.contract_id is not None:
            query = query.where(table.c.contract_id == filters.contract_id)
        if filters.company_number is not None:
            query = query.where(table.c.company_number == filters.company_number)
        if filters.apprentice_number is not None:
            query = query.where(table.c.apprentice_number == filters.apprentice_number)
        if filters.recipient_kind is not None:
            query = query.where(table.c.recipient_kind == filters.recipient_kind)
        query = query.order_by(table.c.issued_at.desc(), table.c.id).limit(filters.limit)
        return list(self.session.scalars(query))

    def for_contract(self, contract_id: uuid.UUID) -> list[Document]:
        table = orm.documents
        return list(
            self.session.scalars(
                sa.select(Document)
                .where(table.c.contract_id == contract_id)
                .order_by(table.c.issued_at, table.c.recipient_kind)
            )
        )

    def record_first_opening(self, opening: Opening) -> bool:
        # A conditional UPDATE, so two simultaneous first openings yield one receipt.
        table = orm.documents
        result = self.session.execute(
            sa.update(table)
            .where(table.c.id == opening.document_id, table.c.first_opened_at.is_(None))
            .values(first_opened_at=opening.opened_at, first_opened_by=opening.opened_by)
            .execution_options(synchronize_session=False)
        )
        stored = result.rowcount == 1  # type: ignore[attr-defined]
        if stored:
            document = self.session.get(Document, opening.document_id)
            if document is not None:
                self.session.refresh(document, ["first_opened_at", "first_opened_by"])
        return stored


class SqlPendingAccessRepository(PendingAccessRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, contract_id: uuid.UUID) -> PendingAccess | None:
        return self.session.get(PendingAccess, contract_id)

    def put(self, pending: PendingAccess) -> None:
        self.session.merge(pending)

    def remove(self, contract_id: uuid.UUID) -> None:
        pending = self.get(contract_id)
        if pending is not None:
            self.session.delete(pending)

    def purge_expired(self, now: datetime) -> int:
        result = self.session.execute(
            sa.delete(orm.pending_access)
            .where(orm.pending_access.c.expires_at < now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Repositories of the documents database: contracts (read model), documents, pending access data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import undefer_group

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository, batch_cache, insert_for, known_absent, statement_for
from documents.adapters import orm
from documents.domain.model import (
    APPRENTICE,
    COMPANY,
    ContractRecord,
    Document,
    DocumentFilter,
    Opening,
    PendingAccess,
    Rendering,
    Scope,
)

# "Dokumente": newest first; the id (unique) breaks ties. Both descending, so that one
# ascending index per scope serves it, read backwards.
DOCUMENT_ORDER = (SortKey("issued_at", descending=True), SortKey("id", descending=True))
# A contract's documents: in the order they were issued.
CONTRACT_DOCUMENT_ORDER = (SortKey("issued_at"), SortKey("id"))


# What a batch's transaction knows already (``chassis.repository.batch_cache``, filled by
# ``DocumentsUnitOfWork.prepare_batch``) besides the preloaded contracts and access data: the
# recipient kinds issued per (contract, kind), whether expired access data was purged.
ISSUED = "documents.issued"
PURGED = "documents.purged"


class SqlContracts(SqlAlchemyRepository[ContractRecord]):
    model = ContractRecord


class SqlDocuments(SqlAlchemyRepository[Document]):
    model = Document

    def get(self, key: Any, *, with_content: bool = False) -> Document | None:
        """The document; ``with_content``: with its PDF bytes and sealed content loaded too."""
        options = [undefer_group("payload")] if with_content else []
        return self.session.get(Document, key, options=options, populate_existing=with_content)

    def store_rendering(self, rendering: Rendering) -> bool:
        """Store the document's PDF unless one is stored already; True if this call stored it.

        A conditional UPDATE (compare-and-set on ``content IS NULL``): of two first openings
        storing their renderings at once, the second waits for the first's row lock, then
        finds the PDF there and changes nothing. Both then answer the stored bytes.
        """
        table = orm.documents
        result = self.session.execute(
            sa.update(table)
            .where(table.c.id == rendering.document_id, table.c.content.is_(None))
            .values(
                content=rendering.content,
                size=rendering.size,
                sha256=rendering.sha256,
                rendered_at=rendering.rendered_at,
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def unrendered(self, *, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        """Ids of documents not rendered yet, in id order, after ``after`` (ix_documents_unrendered)."""
        table = orm.documents
        stmt = sa.select(table.c.id).where(table.c.rendered_at.is_(None))
        if after is not None:
            stmt = stmt.where(table.c.id > after)
        return list(self.session.scalars(stmt.order_by(table.c.id).limit(limit)))

    def issued_for(self, contract_id: uuid.UUID, kind: str) -> frozenset[str]:
        """The recipient kinds that have a document of ``kind`` for the contract."""
        issued = batch_cache(self.session).get(ISSUED)
        if issued is not None and contract_id in issued:
            return frozenset(issued[contract_id].get(kind, ()))
        table = orm.documents
        return frozenset(
            self.session.scalars(
                sa.select(table.c.recipient_kind).where(
                    table.c.contract_id == contract_id, table.c.kind == kind
                )
            )
        )

    def add_if_absent(self, document: Document) -> bool:
        """Store the document unless its contract already has one of its kind for its recipient.

        Outside a consumer batch, one atomic INSERT ... ON CONFLICT DO NOTHING on the unique key
        (contract, kind, recipient): of two deliveries storing the same confirmation at once, one
        stores it and the other learns that it did not (False) and emits nothing. In a batch that
        holds the contract's turn, the answer comes from the batch's preloaded documents.
        """
        issued = batch_cache(self.session).get(ISSUED)
        if issued is not None and document.contract_id in issued:
            # The batch holds this contract's turn (prepare_batch): no other transaction stores
            # its documents until commit, so the preloaded kinds are the truth, and the INSERT
            # goes out with the batch's others at commit instead of one round trip per document.
            recipients = issued[document.contract_id].setdefault(document.kind, set())
            if document.recipient_kind in recipients:
                return False
            recipients.add(document.recipient_kind)
            self.session.add(document)
            return True
        table = orm.documents
        stmt = statement_for(
            self.session,
            "documents.add_if_absent",
            lambda: (
                insert_for(self.session, table)
                .on_conflict_do_nothing(index_elements=["contract_id", "kind", "recipient_kind"])
                .returning(table.c.id)
            ),
        )
        values = {column.name: getattr(document, column.name) for column in table.columns}
        # The contract's own pending ORM changes need not be flushed for this INSERT (documents
        # have no foreign key): they are flushed with the batch's other contracts.
        with self.session.no_autoflush:
            return self.session.execute(stmt, values).first() is not None

    def preload_issued(self, contract_ids: list[uuid.UUID]) -> None:
        """The recipient kinds issued for these contracts, by kind, in one query."""
        table = orm.documents
        issued: dict[uuid.UUID, dict[str, set[str]]] = {contract_id: {} for contract_id in contract_ids}
        rows = self.session.execute(
            sa.select(table.c.contract_id, table.c.kind, table.c.recipient_kind).where(
                table.c.contract_id.in_(contract_ids)
            )
        )
        for contract_id, kind, recipient_kind in rows:
            issued[contract_id].setdefault(kind, set()).add(recipient_kind)
        batch_cache(self.session)[ISSUED] = issued

    def page_for(self, scope: Scope, filters: DocumentFilter, request: PageRequest) -> Page[Document]:
        """One page of the documents in ``scope``, narrowed by ``filters``, newest first."""
        if scope.empty:
            return Page()
        table = orm.documents
        stmt = sa.select(Document)
        if not scope.everything:
            owned = []
            if scope.company_numbers:
                owned.append(
                    sa.and_(
                        table.c.company_number.in_(sorted(scope.company_numbers)),
                        table.c.recipient_kind == COMPANY,
                    )
                )
            if scope.apprentice_number:
                owned.append(
                    sa.and_(
                        table.c.apprentice_number == scope.apprentice_number,
                        table.c.recipient_kind == APPRENTICE,
                    )
                )
            stmt = stmt.where(sa.or_(*owned))
        if filters.unread is True:
            stmt = stmt.where(table.c.first_opened_at.is_(None))
        elif filters.unread is False:
            stmt = stmt.where(table.c.first_opened_at.is_not(None))
        if filters.contract_id is not None:
            stmt = stmt.where(table.c.contract_id == filters.contract_id)
        if filters.company_number is not None:
            stmt = stmt.where(table.c.company_number == filters.company_number)
        if filters.apprentice_number is not None:
            stmt = stmt.where(table.c.apprentice_number == filters.apprentice_number)
        if filters.recipient_kind is not None:
            stmt = stmt.where(table.c.recipient_kind == filters.recipient_kind)
        return self.page(stmt, DOCUMENT_ORDER, request)

    def page_for_contract(self, contract_id: uuid.UUID, request: PageRequest) -> Page[Document]:
        stmt = sa.select(Document).where(orm.documents.c.contract_id == contract_id)
        return self.page(stmt, CONTRACT_DOCUMENT_ORDER, request)

    def record_first_opening(self, opening: Opening) -> bool:
        """Store the read receipt unless one exists; True if this call stored it.

        A conditional UPDATE, so two simultaneous first openings yield one receipt.
        """
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


class SqlPendingAccess(SqlAlchemyRepository[PendingAccess]):
    model = PendingAccess

    def put(self, pending: PendingAccess) -> None:
        """Keep the newest access data for a contract (a re-prepared account replaces the old code)."""
        if known_absent(self.session, PendingAccess, pending.contract_id):
            self.add(pending)  # the batch looked for it already: no look-up first
            return
        self.session.merge(pending)

    def remove(self, contract_id: uuid.UUID) -> None:
        pending = self.get(contract_id)
        if pending is not None:
            self.session.delete(pending)

    def purge_expired(self, now: datetime) -> int:
        """Delete expired access data; once per transaction of a batch (it is housekeeping)."""
        cache = batch_cache(self.session)
        if cache.get(PURGED):
            return 0
        cache[PURGED] = True
        result = self.session.execute(
            sa.delete(orm.pending_access)
            .where(orm.pending_access.c.expires_at < now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

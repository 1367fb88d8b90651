"""The documents unit of work: one transaction with its repositories, outbox and inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from chassis.uow import SqlAlchemyUnitOfWork
from documents.adapters import orm
from documents.adapters.access_letters import SqlAccessLetters
from documents.adapters.repository import SqlContracts, SqlDocuments, SqlPendingAccess, insert_for


class DocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: SqlContracts
    documents: SqlDocuments
    pending_access: SqlPendingAccess
    access_letters: SqlAccessLetters

    def _open(self) -> None:
        self.contracts = SqlContracts(self.session)
        self.documents = SqlDocuments(self.session)
        self.pending_access = SqlPendingAccess(self.session)
        self.access_letters = SqlAccessLetters(self.session)

    def take_turn(self, contract_id: uuid.UUID, at: datetime) -> None:
        """Make this transaction the contract's only writer until it ends.

        The contract and its access data arrive on different queues. Two transactions
        storing them at once could each miss the other's uncommitted half, and the
        apprentice's confirmation would never be issued. Upserting the contract's row in
        ``contract_turns`` (INSERT ... ON CONFLICT DO UPDATE) makes the second wait until
        the first has committed; it then reads what the first stored. Taken only by the
        short transaction that stores, never while a PDF renders. On SQLite (embedded
        mode) writers serialise anyway; the upsert is the same statement there.
        """
        table = orm.contract_turns
        stmt = insert_for(self.session, table).values(contract_id=contract_id, taken_at=at)
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["contract_id"], set_={"taken_at": stmt.excluded.taken_at}
            )
        )

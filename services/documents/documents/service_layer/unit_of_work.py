"""The documents unit of work: one transaction with its repositories, outbox and inbox."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from chassis.uow import SqlAlchemyUnitOfWork
from documents.adapters.repository import (
    ContractRepository,
    DocumentRepository,
    PendingAccessRepository,
    SqlContractRepository,
    SqlDocumentRepository,
    SqlPendingAccessRepository,
)


class DocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: ContractRepository
    documents: DocumentRepository
    pending_access: PendingAccessRepository

    def _open(self) -> None:
        self.contracts = SqlContractRepository(self.session)
        self.documents = SqlDocumentRepository(self.session)
        self.pending_access = SqlPendingAccessRepository(self.session)

    def lock_contract(self, contract_id: uuid.UUID) -> None:
        """Serialise the handlers of one contract until this transaction ends.

        The contract and its access data arrive on different queues; two workers
        handling them at once could each miss the other's uncommitted half and
        never issue the apprentice's confirmation. On SQLite (embedded mode) one
        consumer thread handles everything, and writers serialise anyway.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return
        key = int.from_bytes(contract_id.bytes[:8], "big", signed=True)
        self.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

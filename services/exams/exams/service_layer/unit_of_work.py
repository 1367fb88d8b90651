"""exams' unit of work: the read model of registered contracts."""

from __future__ import annotations

from chassis.uow import SqlAlchemyUnitOfWork
from exams.adapters.repository import SqlRegisteredContracts


class ExamsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: SqlRegisteredContracts

    def _open(self) -> None:
        self.contracts = SqlRegisteredContracts(self.session)

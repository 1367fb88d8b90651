from __future__ import annotations

from chassis.uow import SqlAlchemyUnitOfWork
from exams.adapters.repository import ContractReadModel, SqlContractReadModel


class ExamsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: ContractReadModel

    def _open(self) -> None:
        self.contracts = SqlContractReadModel(self.session)

"""exams' unit of work: the read model of registered contracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from chassis.contracts.training import ContractRegistered
from chassis.events.incoming import IncomingEvent
from chassis.repository import preload
from chassis.uow import SqlAlchemyUnitOfWork
from exams.adapters.repository import SqlRegisteredContracts
from exams.domain.model import RegisteredContract


class ExamsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: SqlRegisteredContracts

    def _open(self) -> None:
        self.contracts = SqlRegisteredContracts(self.session)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """The batch's contracts already in the read model, in one query (most are new: then
        each handler knows so without asking)."""
        ids = sorted(
            {str(e.payload.contract_id) for e in events if isinstance(e.payload, ContractRegistered)}
        )
        preload(session, RegisteredContract, ids)

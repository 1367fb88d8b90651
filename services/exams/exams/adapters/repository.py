from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exams.domain.model import RegisteredContract


class ContractReadModel(Protocol):
    def get(self, contract_id: str) -> RegisteredContract | None: ...
    def add(self, contract: RegisteredContract) -> None: ...
    def list(
        self, *, company_numbers: set[str] | None, limit: int, offset: int
    ) -> Sequence[RegisteredContract]: ...


class SqlContractReadModel:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, contract_id: str) -> RegisteredContract | None:
        return self.session.get(RegisteredContract, contract_id)

    def add(self, contract: RegisteredContract) -> None:
        self.session.add(contract)

    def list(
        self, *, company_numbers: set[str] | None, limit: int, offset: int
    ) -> Sequence[RegisteredContract]:
        stmt = sa.select(RegisteredContract).order_by(
            RegisteredContract.registered_on.desc(),  # type: ignore[attr-defined]
            RegisteredContract.contract_number,  # type: ignore[attr-defined]
        )
        if company_numbers is not None:
            stmt = stmt.where(RegisteredContract.company_number.in_(company_numbers))  # type: ignore[attr-defined]
        return self.session.scalars(stmt.limit(limit).offset(offset)).all()

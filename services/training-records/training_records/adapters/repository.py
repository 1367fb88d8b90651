"""Repositories: collections of aggregates over one SQLAlchemy session.

Each has the same small interface as the in-memory fakes the unit tests use.
"""

from __future__ import annotations

import uuid
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from training_records.adapters import orm
from training_records.domain.model import Apprentice, ApprenticeAccount, Company, Contract, Occupation


class OccupationRepository(Protocol):
    def get(self, code: str) -> Occupation | None: ...
    def add(self, occupation: Occupation) -> None: ...


class CompanyRepository(Protocol):
    def get(self, company_number: str) -> Company | None: ...
    def add(self, company: Company) -> None: ...


class ApprenticeRepository(Protocol):
    def get(self, apprentice_id: uuid.UUID) -> Apprentice | None: ...
    def add(self, apprentice: Apprentice) -> None: ...


class AccountRepository(Protocol):
    def get(self, apprentice_number: str) -> ApprenticeAccount | None: ...
    def add(self, account: ApprenticeAccount) -> None: ...


class ContractRepository(Protocol):
    def get(self, contract_id: uuid.UUID) -> Contract | None: ...
    def add(self, contract: Contract) -> None: ...


class ContractNumberSequence(Protocol):
    def next_value(self, year: int) -> int: ...
    def ensure_at_least(self, year: int, value: int) -> None: ...


T = TypeVar("T")


class _SessionRepository(Generic[T]):
    model: type[T]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key: object) -> T | None:
        return self.session.get(self.model, key)

    def add(self, entity: T) -> None:
        self.session.add(entity)


class SqlOccupationRepository(_SessionRepository[Occupation]):
    model = Occupation


class SqlCompanyRepository(_SessionRepository[Company]):
    model = Company


class SqlApprenticeRepository(_SessionRepository[Apprentice]):
    model = Apprentice


class SqlAccountRepository(_SessionRepository[ApprenticeAccount]):
    model = ApprenticeAccount


class SqlContractRepository(_SessionRepository[Contract]):
    model = Contract

    def add(self, contract: Contract) -> None:
        # The mappers declare no relationships, so SQLAlchemy cannot order inserts by
        # foreign key; writing the pending company and apprentice first keeps them ahead.
        self.session.flush()
        self.session.add(contract)


class SqlContractNumberSequence:
    """Per-year counters; the row lock taken by the UPDATE lasts until commit."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_ignoring_conflict(self, year: int, value: int) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(orm.contract_number_counters)
            .values(year=year, last_value=value)
            .on_conflict_do_nothing(index_elements=["year"])
        )

    def next_value(self, year: int) -> int:
        self._insert_ignoring_conflict(year, 0)
        table = orm.contract_number_counters
        return self.session.execute(
            sa.update(table)
            .where(table.c.year == year)
            .values(last_value=table.c.last_value + 1)
            .returning(table.c.last_value)
        ).scalar_one()

    def ensure_at_least(self, year: int, value: int) -> None:
        """Make sure numbers handed out later for ``year`` come after ``value`` (seeding, imports)."""
        self._insert_ignoring_conflict(year, value)
        table = orm.contract_number_counters
        self.session.execute(
            sa.update(table).where(table.c.year == year, table.c.last_value < value).values(last_value=value)
        )

"""Repositories of the register over one SQLAlchemy session, and its keyset-paged lists.

Lists filter by the caller's visibility in SQL, so no row the caller may not see
ever leaves the database, and page by keyset: each ``*_ORDER`` ends in a unique
column and has an index (``adapters.orm``, migration 0002).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository
from training_records.adapters import orm
from training_records.domain.access import CompanyVisibility, ContractVisibility
from training_records.domain.model import Apprentice, ApprenticeAccount, Company, Contract, Occupation
from training_records.domain.queries import ContractFilters, ContractView

# Newest registration first; the register number (unique) breaks ties.
CONTRACT_ORDER = (SortKey("registered_on", descending=True), SortKey("contract_number", descending=True))
# By name; the Identnummer (unique) breaks ties.
COMPANY_ORDER = (SortKey("name"), SortKey("company_number"))
# By title; the code (unique) breaks ties.
OCCUPATION_ORDER = (SortKey("title"), SortKey("code"))

_contracts = orm.contracts
_apprentices = orm.apprentices


class SqlOccupationRepository(SqlAlchemyRepository[Occupation]):
    model = Occupation

    def page_all(self, request: PageRequest) -> Page[Occupation]:
        return self.page(sa.select(Occupation), OCCUPATION_ORDER, request)


class SqlCompanyRepository(SqlAlchemyRepository[Company]):
    model = Company

    def page_visible(self, visibility: CompanyVisibility, request: PageRequest) -> Page[Company]:
        """One page of the companies ``visibility`` shows, by name."""
        if visibility.nothing:
            return Page()
        stmt = sa.select(Company)
        if not visibility.everything:
            stmt = stmt.where(orm.companies.c.company_number.in_(sorted(visibility.company_numbers)))
        return self.page(stmt, COMPANY_ORDER, request)


class SqlApprenticeRepository(SqlAlchemyRepository[Apprentice]):
    model = Apprentice


class SqlAccountRepository(SqlAlchemyRepository[ApprenticeAccount]):
    model = ApprenticeAccount


class SqlContractRepository(SqlAlchemyRepository[Contract]):
    model = Contract

    def add(self, contract: Contract) -> None:
        # The mappers declare no relationships, so SQLAlchemy cannot order inserts by
        # foreign key; writing the pending company and apprentice first keeps them ahead.
        self.session.flush()
        self.session.add(contract)

    def view(self, contract_id: uuid.UUID) -> ContractView | None:
        """The contract as the register shows it, whoever may see it (access is the caller's)."""
        views = self._views([contract_id])
        return views[0] if views else None

    def page_views(
        self, visibility: ContractVisibility, filters: ContractFilters, request: PageRequest
    ) -> Page[ContractView]:
        """One page of the contracts ``visibility`` shows, narrowed by ``filters``, newest first."""
        if visibility.nothing:
            return Page()
        conditions = [_visible(visibility)]
        if filters.company_number:
            conditions.append(_contracts.c.company_number == filters.company_number)
        if filters.occupation_code:
            conditions.append(_contracts.c.occupation_code == filters.occupation_code)
        if filters.apprentice_number:
            conditions.append(_apprentices.c.apprentice_number == filters.apprentice_number)
        stmt = (
            sa.select(Contract)
            .join(_apprentices, _apprentices.c.id == _contracts.c.apprentice_id)
            .where(*conditions)
        )
        page = self.page(stmt, CONTRACT_ORDER, request)
        by_id = {view.id: view for view in self._views([contract.id for contract in page.items])}
        return Page(items=tuple(by_id[contract.id] for contract in page.items), next_cursor=page.next_cursor)

    def _views(self, contract_ids: Sequence[uuid.UUID]) -> list[ContractView]:
        """The contracts with their company, occupation, apprentice and account, in one query."""
        if not contract_ids:
            return []
        rows = self.session.execute(
            sa.select(Contract, Company, Occupation, Apprentice, ApprenticeAccount)
            .select_from(_contracts)
            .join(orm.companies, orm.companies.c.company_number == _contracts.c.company_number)
            .join(orm.occupations, orm.occupations.c.code == _contracts.c.occupation_code)
            .join(_apprentices, _apprentices.c.id == _contracts.c.apprentice_id)
            .outerjoin(
                orm.apprentice_accounts,
                orm.apprentice_accounts.c.apprentice_number == _apprentices.c.apprentice_number,
            )
            .where(_contracts.c.id.in_(contract_ids))
        ).all()
        return [ContractView.of(*row) for row in rows]


def _visible(visibility: ContractVisibility) -> sa.ColumnElement[bool]:
    """``ContractVisibility.allows`` in SQL (on contracts joined with apprentices)."""
    if visibility.everything:
        return sa.true()
    conditions: list[sa.ColumnElement[bool]] = []
    if visibility.company_numbers:
        conditions.append(_contracts.c.company_number.in_(sorted(visibility.company_numbers)))
    if visibility.apprentice_number:
        conditions.append(_apprentices.c.apprentice_number == visibility.apprentice_number)
    return sa.or_(*conditions) if conditions else sa.false()


class SqlContractNumberSequence:
    """Per-year counters of register numbers; the row lock taken by the UPDATE lasts until commit.

    Hand-written SQL on purpose: ``UPDATE … RETURNING`` on the year's row serialises
    concurrent registrations, so numbers never repeat and races leave no gaps.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_ignoring_conflict(self, year: int, value: int) -> None:
        dialect = self.session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(orm.contract_number_counters)
            .values(year=year, last_value=value)
            .on_conflict_do_nothing(index_elements=["year"])
        )

    def next_value(self, year: int) -> int:
        self._insert_ignoring_conflict(year, 0)
        table = orm.contract_number_counters
        value: int = self.session.execute(
            sa.update(table)
            .where(table.c.year == year)
            .values(last_value=table.c.last_value + 1)
            .returning(table.c.last_value)
        ).scalar_one()
        return value

    def ensure_at_least(self, year: int, value: int) -> None:
        """Make sure numbers handed out later for ``year`` come after ``value`` (seeding, imports)."""
        self._insert_ignoring_conflict(year, value)
        table = orm.contract_number_counters
        self.session.execute(
            sa.update(table).where(table.c.year == year, table.c.last_value < value).values(last_value=value)
        )

"""The read model of registered contracts, in SQL."""

from __future__ import annotations

from collections.abc import Set

import sqlalchemy as sa

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository
from exams.adapters.orm import registered_contracts
from exams.domain.model import RegisteredContract

# Newest registration first, then by contract number; the contract id breaks ties (it is unique).
CONTRACT_ORDER = (
    SortKey("registered_on", descending=True),
    SortKey("contract_number"),
    SortKey("contract_id"),
)


class SqlRegisteredContracts(SqlAlchemyRepository[RegisteredContract]):
    model = RegisteredContract

    def page_for_companies(
        self, company_numbers: Set[str] | None, request: PageRequest
    ) -> Page[RegisteredContract]:
        """One page of the contracts of ``company_numbers`` (None: of every company)."""
        stmt = sa.select(RegisteredContract)
        if company_numbers is not None:
            stmt = stmt.where(registered_contracts.c.company_number.in_(company_numbers))
        return self.page(stmt, CONTRACT_ORDER, request)

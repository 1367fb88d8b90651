"""Indexes for the keyset-paginated lists of contracts, companies and occupations

Every list pages by keyset (no count(*), no OFFSET): each index covers a list's
filter and order, so a page seeks to its cursor.

- contracts, newest registration first: for the chamber (all), per company (the
  company's list; also the index of the foreign key to companies, replacing
  ix_contracts_company_number) and per occupation (the occupation filter);
- companies by name, occupations by title.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEWEST_FIRST = [sa.text("registered_on DESC"), sa.text("contract_number DESC")]


def upgrade() -> None:
    op.drop_index("ix_contracts_company_number", table_name="contracts")
    op.create_index("ix_contracts_listing", "contracts", NEWEST_FIRST)
    op.create_index("ix_contracts_company_listing", "contracts", ["company_number", *NEWEST_FIRST])
    op.create_index("ix_contracts_occupation_listing", "contracts", ["occupation_code", *NEWEST_FIRST])
    op.create_index("ix_companies_listing", "companies", ["name", "company_number"])
    op.create_index("ix_occupations_listing", "occupations", ["title", "code"])


def downgrade() -> None:
    op.drop_index("ix_occupations_listing", table_name="occupations")
    op.drop_index("ix_companies_listing", table_name="companies")
    op.drop_index("ix_contracts_occupation_listing", table_name="contracts")
    op.drop_index("ix_contracts_company_listing", table_name="contracts")
    op.drop_index("ix_contracts_listing", table_name="contracts")
    op.create_index("ix_contracts_company_number", "contracts", ["company_number"])

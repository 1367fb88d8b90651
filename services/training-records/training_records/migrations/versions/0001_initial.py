"""The register: occupations, companies, apprentices, their accounts, contracts; outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chassis.migrations import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "occupations",
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_occupations"),
    )
    op.create_table(
        "companies",
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("street", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("company_number", name="pk_companies"),
    )
    op.create_table(
        "apprentices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("apprentice_number", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_apprentices"),
    )
    op.create_index("ix_apprentices_apprentice_number", "apprentices", ["apprentice_number"])
    op.create_table(
        "apprentice_accounts",
        sa.Column("apprentice_number", sa.String(20), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("apprentice_number", name="pk_apprentice_accounts"),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sa.String(30), nullable=False),
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("apprentice_id", sa.Uuid(), nullable=False),
        sa.Column("occupation_code", sa.String(20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=True),
        sa.Column("confirmation_opened_by_company_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_opened_by_apprentice_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_contracts"),
        sa.UniqueConstraint("contract_number", name="uq_contracts_contract_number"),
        sa.ForeignKeyConstraint(
            ["company_number"], ["companies.company_number"], name="fk_contracts_company_number_companies"
        ),
        sa.ForeignKeyConstraint(
            ["apprentice_id"], ["apprentices.id"], name="fk_contracts_apprentice_id_apprentices"
        ),
        sa.ForeignKeyConstraint(
            ["occupation_code"], ["occupations.code"], name="fk_contracts_occupation_code_occupations"
        ),
    )
    op.create_index("ix_contracts_company_number", "contracts", ["company_number"])
    op.create_index("ix_contracts_apprentice_id", "contracts", ["apprentice_id"])
    op.create_table(
        "contract_number_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_contract_number_counters"),
    )
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    for table in (
        "contract_number_counters",
        "contracts",
        "apprentice_accounts",
        "apprentices",
        "companies",
        "occupations",
    ):
        op.drop_table(table)

"""initial

Revision ID: 0001
Revises:
Create Date: 2026-11-24 02:36:14.404577
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chassis.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()

    op.create_table(
        "registered_contracts",
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("contract_number", sa.String(length=30), nullable=False),
        sa.Column("company_number", sa.String(length=20), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("apprentice_first_name", sa.String(length=100), nullable=False),
        sa.Column("apprentice_last_name", sa.String(length=100), nullable=False),
        sa.Column("apprentice_birth_date", sa.Date(), nullable=False),
        sa.Column("occupation_code", sa.String(length=20), nullable=False),
        sa.Column("occupation_title", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id"),
    )
    with op.batch_alter_table("registered_contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registered_contracts_company_number"), ["company_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("registered_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registered_contracts_company_number"))

    op.drop_table("registered_contracts")
    drop_messaging_tables()

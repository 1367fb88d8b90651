"""Trainers' portal accounts (Account erstellen): invited or active, as identity reports them

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trainer_accounts",
        sa.Column("trainer_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("trainer_id", name=op.f("pk_trainer_accounts")),
    )
    op.create_index(op.f("ix_trainer_accounts_account_id"), "trainer_accounts", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trainer_accounts_account_id"), table_name="trainer_accounts")
    op.drop_table("trainer_accounts")

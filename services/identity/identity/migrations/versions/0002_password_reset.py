"""Password reset: the hash and expiry of each account's one open reset link.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("password_reset_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("password_reset_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_accounts_password_reset_token_hash"), ["password_reset_token_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("uq_accounts_password_reset_token_hash"), type_="unique")
        batch.drop_column("password_reset_expires_at")
        batch.drop_column("password_reset_token_hash")

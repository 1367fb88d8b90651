"""Mails with a one-time link: whose, which kind, until when, and when the stored copy lost it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "link_kind IS NOT NULL AND link_voided_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("mails") as batch:
        batch.add_column(sa.Column("account_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("link_kind", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("link_voided_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_mails_open_links",
        "mails",
        ["link_expires_at"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index("ix_mails_account_links", "mails", ["account_id", "link_kind"])


def downgrade() -> None:
    op.drop_index("ix_mails_account_links", table_name="mails")
    op.drop_index("ix_mails_open_links", table_name="mails")
    with op.batch_alter_table("mails") as batch:
        batch.drop_column("link_voided_at")
        batch.drop_column("link_expires_at")
        batch.drop_column("link_kind")
        batch.drop_column("account_id")

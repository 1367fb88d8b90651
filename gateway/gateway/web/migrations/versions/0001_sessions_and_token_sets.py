"""Server-side sessions and token sets.

Before migrations, the app created these two tables itself at start-up
(``create_all``). A database from then already has them: they are adopted as
they are, so that ``migrate`` works on old and new databases alike.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "web_sessions" not in existing:
        op.create_table(
            "web_sessions",
            sa.Column("store_id", sa.String(length=128), nullable=False),
            sa.Column("data", sa.LargeBinary(), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("store_id"),
        )
        op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    if "web_token_sets" not in existing:
        op.create_table(
            "web_token_sets",
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("subject", sa.String(length=255), nullable=False),
            sa.Column("access_token", sa.Text(), nullable=False),
            sa.Column("refresh_token", sa.Text(), nullable=True),
            sa.Column("id_token", sa.Text(), nullable=True),
            sa.Column("expires_at", sa.Float(), nullable=False),
            sa.Column("claims", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    op.drop_table("web_token_sets")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")

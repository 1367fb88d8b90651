"""One-time form tokens of creating forms and the outcome of their first submission.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_form_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_web_form_submissions_created_at", "web_form_submissions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_web_form_submissions_created_at", table_name="web_form_submissions")
    op.drop_table("web_form_submissions")

"""Companies' access data follow the register's master data: when it was stated

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows keep NULL: the next statement of the register, whatever its time, is taken.
    op.add_column("company_accesses", sa.Column("master_data_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("company_accesses", "master_data_at")

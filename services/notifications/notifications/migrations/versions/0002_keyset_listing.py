"""Indexes for the keyset-paginated list of notices (newest first, per addressee)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The list orders by (created_at, id), newest first; the id makes the order total,
    # so the indexes carry it too (read backwards for the descending order).
    op.drop_index("ix_notices_apprentice", table_name="notices")
    op.drop_index("ix_notices_company", table_name="notices")
    op.create_index("ix_notices_apprentice_listing", "notices", ["apprentice_number", "created_at", "id"])
    op.create_index("ix_notices_company_listing", "notices", ["company_number", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_company_listing", table_name="notices")
    op.drop_index("ix_notices_apprentice_listing", table_name="notices")
    op.create_index("ix_notices_company", "notices", ["company_number", "created_at"])
    op.create_index("ix_notices_apprentice", "notices", ["apprentice_number", "created_at"])

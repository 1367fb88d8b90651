"""Indexes for the keyset-paginated list of registered contracts

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registered_contracts") as batch_op:
        batch_op.drop_index("ix_registered_contracts_company_number")
    op.create_index(
        "ix_registered_contracts_listing",
        "registered_contracts",
        [sa.text("registered_on DESC"), "contract_number", "contract_id"],
    )
    op.create_index(
        "ix_registered_contracts_company_listing",
        "registered_contracts",
        ["company_number", sa.text("registered_on DESC"), "contract_number", "contract_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_registered_contracts_company_listing", "registered_contracts")
    op.drop_index("ix_registered_contracts_listing", "registered_contracts")
    op.create_index("ix_registered_contracts_company_number", "registered_contracts", ["company_number"])

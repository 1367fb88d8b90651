"""Issuing without an advisory lock (contract_turns), and indexes for the keyset-paged lists

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
    op.create_table(
        "contract_turns",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_contract_turns")),
    )
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_index("ix_documents_company_number")
        batch_op.drop_index("ix_documents_apprentice_number")
    # The keyset orders of "Dokumente" (newest first: read backwards) behind each scope's filter,
    # and of a contract's documents.
    op.create_index("ix_documents_listing", "documents", ["issued_at", "id"])
    op.create_index(
        "ix_documents_company_listing", "documents", ["company_number", "recipient_kind", "issued_at", "id"]
    )
    op.create_index(
        "ix_documents_apprentice_listing",
        "documents",
        ["apprentice_number", "recipient_kind", "issued_at", "id"],
    )
    op.create_index("ix_documents_contract_listing", "documents", ["contract_id", "issued_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_documents_contract_listing", "documents")
    op.drop_index("ix_documents_apprentice_listing", "documents")
    op.drop_index("ix_documents_company_listing", "documents")
    op.drop_index("ix_documents_listing", "documents")
    op.create_index("ix_documents_apprentice_number", "documents", ["apprentice_number"])
    op.create_index("ix_documents_company_number", "documents", ["company_number"])
    op.drop_table("contract_turns")

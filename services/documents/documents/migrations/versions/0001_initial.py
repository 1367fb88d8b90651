"""Initial schema: contracts read model, documents, pending access data, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 02:40:16.492330
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
        "contracts",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("contract_number", sa.String(length=30), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("occupation_code", sa.String(length=20), nullable=False),
        sa.Column("occupation_title", sa.String(length=200), nullable=False),
        sa.Column("company_number", sa.String(length=20), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("company_email", sa.String(length=320), nullable=False),
        sa.Column("apprentice_first_name", sa.String(length=100), nullable=False),
        sa.Column("apprentice_last_name", sa.String(length=100), nullable=False),
        sa.Column("apprentice_birth_date", sa.Date(), nullable=False),
        sa.Column("apprentice_email", sa.String(length=320), nullable=False),
        sa.Column("apprentice_number", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_company_number"), ["company_number"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_kind", sa.String(length=20), nullable=False),
        sa.Column("company_number", sa.String(length=20), nullable=True),
        sa.Column("apprentice_number", sa.String(length=20), nullable=True),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("filename", sa.String(length=130), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_opened_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "recipient_kind IN ('company', 'apprentice')", name=op.f("ck_documents_recipient_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "contract_id", "kind", "recipient_kind", name="uq_documents_contract_kind_recipient"
        ),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documents_apprentice_number"), ["apprentice_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_documents_company_number"), ["company_number"], unique=False)

    op.create_table(
        "pending_access",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("apprentice_number", sa.String(length=20), nullable=False),
        sa.Column("sealed_code", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_pending_access")),
    )


def downgrade() -> None:
    op.drop_table("pending_access")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_company_number"))
        batch_op.drop_index(batch_op.f("ix_documents_apprentice_number"))

    op.drop_table("documents")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_company_number"))

    op.drop_table("contracts")
    drop_messaging_tables()

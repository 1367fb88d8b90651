"""Access data: invitation links, the register's apprentices and trainers per company, companies' codes.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_invitations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_invitations")),
    )
    op.create_index(op.f("ix_invitations_account_id"), "invitations", ["account_id"])
    op.create_table(
        "register_apprentices",
        sa.Column("company_number", sa.String(length=20), nullable=False),
        sa.Column("apprentice_number", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("company_number", "apprentice_number", name=op.f("pk_register_apprentices")),
    )
    op.create_table(
        "register_trainers",
        sa.Column("trainer_id", sa.Uuid(), nullable=False),
        sa.Column("company_number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("removed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("trainer_id", name=op.f("pk_register_trainers")),
    )
    op.create_index(op.f("ix_register_trainers_company_number"), "register_trainers", ["company_number"])

    op.create_table(
        "company_accesses",
        sa.Column("company_number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("code_hash", sa.String(length=255), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("company_number", name=op.f("pk_company_accesses")),
    )

    op.create_table(
        "access_data_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.CheckConstraint("kind IN ('company', 'apprentice')", name=op.f("ck_access_data_requests_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_data_requests")),
    )
    op.create_index(
        "ix_access_data_requests_open", "access_data_requests", ["kind", "number", "fulfilled_at"]
    )
    op.create_index("ix_access_data_requests_listing", "access_data_requests", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_data_requests_listing", table_name="access_data_requests")
    op.drop_index("ix_access_data_requests_open", table_name="access_data_requests")
    op.drop_table("access_data_requests")
    op.drop_table("company_accesses")
    op.drop_index(op.f("ix_register_trainers_company_number"), table_name="register_trainers")
    op.drop_table("register_trainers")
    op.drop_table("register_apprentices")
    op.drop_index(op.f("ix_invitations_account_id"), table_name="invitations")
    op.drop_table("invitations")

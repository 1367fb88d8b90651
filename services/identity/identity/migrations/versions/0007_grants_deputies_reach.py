"""Service rights, company services, deputyships, head offices' branches and reach

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chassis.db import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("service_rights", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "company_services",
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("service", sa.String(50), nullable=False),
        sa.Column("switched_on_by", sa.String(36), nullable=False),
        sa.Column("switched_on_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("company_number", "service", name=op.f("pk_company_services")),
    )
    op.create_table(
        "deputyships",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("represented_account_id", sa.String(36), nullable=True),
        sa.Column("company_number", sa.String(20), nullable=True),
        sa.Column("deputy_email", sa.String(254), nullable=False),
        sa.Column("deputy_name", sa.String(200), nullable=False),
        sa.Column("deputy_account_id", sa.String(36), nullable=True),
        sa.Column("company_roles", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("removed_by", sa.String(36), nullable=True),
        sa.Column("removed_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('person', 'company')", name=op.f("ck_deputyships_kind")),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'removed')", name=op.f("ck_deputyships_status")
        ),
        sa.ForeignKeyConstraint(
            ["represented_account_id"],
            ["accounts.id"],
            name=op.f("fk_deputyships_represented_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["deputy_account_id"], ["accounts.id"], name=op.f("fk_deputyships_deputy_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputyships")),
    )
    op.create_index(op.f("ix_deputyships_represented_account_id"), "deputyships", ["represented_account_id"])
    op.create_index(op.f("ix_deputyships_company_number"), "deputyships", ["company_number"])
    op.create_index(op.f("ix_deputyships_deputy_account_id"), "deputyships", ["deputy_account_id"])
    op.create_index("ix_deputyships_status_requested", "deputyships", ["status", "requested_at", "id"])
    op.create_table(
        "company_branches",
        sa.Column("branch_number", sa.String(20), nullable=False),
        sa.Column("head_office_number", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("branch_number", name=op.f("pk_company_branches")),
    )
    op.create_index(
        op.f("ix_company_branches_head_office_number"), "company_branches", ["head_office_number"]
    )
    op.create_table(
        "head_office_reach",
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("company_number", name=op.f("pk_head_office_reach")),
    )


def downgrade() -> None:
    op.drop_table("head_office_reach")
    op.drop_index(op.f("ix_company_branches_head_office_number"), table_name="company_branches")
    op.drop_table("company_branches")
    op.drop_index("ix_deputyships_status_requested", table_name="deputyships")
    op.drop_index(op.f("ix_deputyships_deputy_account_id"), table_name="deputyships")
    op.drop_index(op.f("ix_deputyships_company_number"), table_name="deputyships")
    op.drop_index(op.f("ix_deputyships_represented_account_id"), table_name="deputyships")
    op.drop_table("deputyships")
    op.drop_table("company_services")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("service_rights")

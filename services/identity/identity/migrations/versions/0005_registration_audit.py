"""Self-registration (its confirmation link) and the append-only audit log.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL keeps the log append-only: UPDATE and DELETE raise.
APPEND_ONLY = """
CREATE FUNCTION audit_records_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_records is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    op.create_index("ix_audit_records_at", "audit_records", ["at", "id"])
    op.create_index("ix_audit_records_account", "audit_records", ["account_id", "at", "id"])
    op.create_index("ix_audit_records_actor", "audit_records", ["actor_id", "at", "id"])
    op.create_index("ix_audit_records_kind", "audit_records", ["kind", "at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
    with op.batch_alter_table("accounts") as batch:
        # The open confirmation link of a self-registered account: SHA-256 of its token, and expiry.
        batch.add_column(sa.Column("registration_token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("registration_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_accounts_registration_token_hash"), ["registration_token_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint(op.f("uq_accounts_registration_token_hash"), type_="unique")
        batch.drop_column("registration_expires_at")
        batch.drop_column("registration_token_hash")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_records_append_only ON audit_records")
        op.execute("DROP FUNCTION audit_records_append_only()")
    op.drop_table("audit_records")

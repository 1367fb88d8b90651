"""Access letters (Anschreiben) with a company's or apprentice's Aktivierungscode, for the chamber to print

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template", sa.String(length=50), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("sealed_data", sa.LargeBinary(), nullable=True),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_by", sa.String(length=64), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('company', 'apprentice')", name=op.f("ck_access_letters_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_letters")),
    )
    op.create_index("ix_access_letters_listing", "access_letters", ["issued_at", "id"])
    op.create_index("ix_access_letters_number", "access_letters", ["kind", "number"])


def downgrade() -> None:
    op.drop_index("ix_access_letters_number", table_name="access_letters")
    op.drop_index("ix_access_letters_listing", table_name="access_letters")
    op.drop_table("access_letters")

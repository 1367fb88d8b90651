"""Documents are sealed at issue and rendered on their first opening

Adds the sealed content (template, template_version, sealed_data, sealed_sha256) and
rendered_at; the PDF's columns (content, size, sha256) may now be empty until the first
opening. Documents issued before this revision were rendered at issue: their bytes stay
as they are and rendered_at becomes their issued_at.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENDERING = (
    "(content IS NULL) = (rendered_at IS NULL) AND (content IS NULL) = (sha256 IS NULL) "
    "AND (content IS NULL) = (size IS NULL)"
)
SEALED = (
    "(sealed_data IS NULL) = (sealed_sha256 IS NULL) AND (sealed_data IS NULL) = (template IS NULL) "
    "AND (sealed_data IS NULL) = (template_version IS NULL) "
    "AND (content IS NOT NULL OR sealed_data IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("template", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sealed_data", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sealed_sha256", sa.String(length=64), nullable=True))
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.alter_column("size", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)
    # Every document so far was rendered when it was issued.
    op.execute("UPDATE documents SET rendered_at = issued_at")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.create_check_constraint(op.f("ck_documents_rendering"), RENDERING)
        batch_op.create_check_constraint(op.f("ck_documents_sealed"), SEALED)
    op.create_index(
        "ix_documents_unrendered",
        "documents",
        ["id"],
        postgresql_where=sa.text("rendered_at IS NULL"),
        sqlite_where=sa.text("rendered_at IS NULL"),
    )


def downgrade() -> None:
    unrendered = (
        op.get_bind().execute(sa.text("SELECT count(*) FROM documents WHERE content IS NULL")).scalar()
    )
    if unrendered:
        raise RuntimeError(
            f"{unrendered} document(s) are not rendered yet and would lose their content: "
            "run `bp-documents render-pending` first"
        )
    op.drop_index("ix_documents_unrendered", "documents")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_constraint(op.f("ck_documents_sealed"), type_="check")
        batch_op.drop_constraint(op.f("ck_documents_rendering"), type_="check")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("size", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("sealed_sha256")
        batch_op.drop_column("sealed_data")
        batch_op.drop_column("template_version")
        batch_op.drop_column("template")
        batch_op.drop_column("rendered_at")

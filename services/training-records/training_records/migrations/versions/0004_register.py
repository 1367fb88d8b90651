"""The register grows: the occupation catalogue's facts, head offices and branches, trainers,
the contract's whole life and its history, the Ausbildungsatlas and the chamber's data import

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEWEST_FIRST = [sa.text("registered_on DESC"), sa.text("contract_number DESC")]
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("occupations") as table:
        table.add_column(sa.Column("specialisms", sa.JSON(), nullable=False, server_default="[]"))
        table.add_column(sa.Column("duration_months", sa.Integer(), nullable=True))
        table.add_column(sa.Column("split_final_exam", sa.Boolean(), nullable=True))
        table.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    with op.batch_alter_table("occupations") as table:
        table.alter_column("specialisms", server_default=None)

    with op.batch_alter_table("companies") as table:
        table.add_column(sa.Column("head_office_number", sa.String(20), nullable=True))
        table.add_column(sa.Column("branch_reach", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("atlas_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.create_foreign_key(
            "fk_companies_head_office_number_companies",
            "companies",
            ["head_office_number"],
            ["company_number"],
        )
    with op.batch_alter_table("companies") as table:
        table.alter_column("branch_reach", server_default=None)
        table.alter_column("atlas_consent", server_default=None)
    op.create_index(
        "ix_companies_branch_listing", "companies", ["head_office_number", "name", "company_number"]
    )

    op.create_table(
        "trainers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trainers"),
        sa.ForeignKeyConstraint(
            ["company_number"], ["companies.company_number"], name="fk_trainers_company_number_companies"
        ),
    )
    op.create_index("ix_trainers_listing", "trainers", ["company_number", "last_name", "first_name", "id"])

    with op.batch_alter_table("contracts") as table:
        table.add_column(sa.Column("specialism", sa.String(200), nullable=True))
        table.add_column(sa.Column("probation_months", sa.Integer(), nullable=True))
        table.add_column(sa.Column("part_time", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("shortened_by_months", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("trainer_id", sa.Uuid(), nullable=True))
        table.add_column(sa.Column("interrupted_since", sa.Date(), nullable=True))
        table.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("termination_reason", sa.String(20), nullable=True))
        table.add_column(sa.Column("source_key", sa.String(40), nullable=True))
        table.add_column(sa.Column("source_fingerprint", sa.String(64), nullable=True))
        table.create_foreign_key("fk_contracts_trainer_id_trainers", "trainers", ["trainer_id"], ["id"])
        table.create_unique_constraint("uq_contracts_source_key", ["source_key"])
    with op.batch_alter_table("contracts") as table:
        table.alter_column("part_time", server_default=None)
        table.alter_column("shortened_by_months", server_default=None)
    op.create_index("ix_contracts_trainer_id", "contracts", ["trainer_id"])
    op.create_index("ix_contracts_state_listing", "contracts", ["state", *NEWEST_FIRST])

    op.create_table(
        "contract_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contract_changes"),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name="fk_contract_changes_contract_id_contracts"
        ),
    )
    op.create_index("ix_contract_changes_history", "contract_changes", ["contract_id", "recorded_at", "id"])

    op.create_table(
        "atlas_entries",
        sa.Column("company_number", sa.String(20), nullable=False),
        sa.Column("occupation_code", sa.String(20), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("postal_code", sa.String(5), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("contact_phone", sa.String(40), nullable=True),
        sa.Column("website", sa.String(300), nullable=True),
        sa.Column("updated_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("company_number", "occupation_code", name="pk_atlas_entries"),
        sa.ForeignKeyConstraint(
            ["company_number"], ["companies.company_number"], name="fk_atlas_entries_company_number_companies"
        ),
        sa.ForeignKeyConstraint(
            ["occupation_code"], ["occupations.code"], name="fk_atlas_entries_occupation_code_occupations"
        ),
    )
    op.create_index(
        "ix_atlas_by_postcode", "atlas_entries", ["occupation_code", "postal_code", "company_number"]
    )
    op.create_index(
        "ix_atlas_by_city", "atlas_entries", ["occupation_code", "city", "postal_code", "company_number"]
    )

    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", WHEN, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "total_rows",
                "done_rows",
                "error_count",
                "created_count",
                "updated_count",
                "unchanged_count",
                "next_index",
            )
        ),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("failure", sa.String(40), nullable=True),
        sa.Column("failure_detail", sa.String(500), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_jobs"),
    )
    op.create_index(
        "ix_import_jobs_listing", "import_jobs", [sa.text("uploaded_at DESC"), sa.text("id DESC")]
    )
    op.create_index("ix_import_jobs_status", "import_jobs", ["status", "uploaded_at"])
    op.create_table(
        "import_files",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name="pk_import_files"),
        sa.ForeignKeyConstraint(["job_id"], ["import_jobs.id"], name="fk_import_files_job_id_import_jobs"),
    )
    op.create_table(
        "import_row_errors",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("field", sa.String(60), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "line", "field", name="pk_import_row_errors"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.id"], name="fk_import_row_errors_job_id_import_jobs"
        ),
    )


def downgrade() -> None:
    for table_name in (
        "import_row_errors",
        "import_files",
        "import_jobs",
        "atlas_entries",
        "contract_changes",
    ):
        op.drop_table(table_name)
    op.drop_index("ix_contracts_state_listing", table_name="contracts")
    op.drop_index("ix_contracts_trainer_id", table_name="contracts")
    with op.batch_alter_table("contracts") as table:
        table.drop_constraint("uq_contracts_source_key", type_="unique")
        table.drop_constraint("fk_contracts_trainer_id_trainers", type_="foreignkey")
        for column in (
            "source_fingerprint",
            "source_key",
            "termination_reason",
            "ended_on",
            "interrupted_since",
            "trainer_id",
            "shortened_by_months",
            "part_time",
            "probation_months",
            "specialism",
        ):
            table.drop_column(column)
    op.drop_table("trainers")
    op.drop_index("ix_companies_branch_listing", table_name="companies")
    with op.batch_alter_table("companies") as table:
        table.drop_constraint("fk_companies_head_office_number_companies", type_="foreignkey")
        for column in ("atlas_consent", "branch_reach", "head_office_number"):
            table.drop_column(column)
    with op.batch_alter_table("occupations") as table:
        for column in ("retired_on", "split_final_exam", "duration_months", "specialisms"):
            table.drop_column(column)

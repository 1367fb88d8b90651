"""Tables of the training-records database and the imperative mappers onto the domain.

The domain stays plain Python (cosmicpython ch. 2): SQLAlchemy learns how to
persist its classes here, and nothing in ``domain/`` imports SQLAlchemy.
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry

from chassis.db import UtcDateTime, new_metadata
from chassis.events.tables import add_messaging_tables
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    AtlasEntry,
    ChangeKind,
    Company,
    Contract,
    ContractChange,
    ContractState,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Occupation,
    TerminationReason,
    Trainer,
    TrainerAccount,
)


def _state_enum(enum_class: type[enum.StrEnum], name: str) -> sa.Enum:
    # Stored as the code ("registered"), not the member name; a plain string column,
    # so a new state needs no ALTER TYPE.
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


metadata = new_metadata()
outbox, inbox = add_messaging_tables(metadata)

occupations = sa.Table(
    "occupations",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("specialisms", sa.JSON, nullable=False, default=list),
    sa.Column("duration_months", sa.Integer, nullable=True),
    sa.Column("split_final_exam", sa.Boolean, nullable=True),
    sa.Column("retired_on", sa.Date, nullable=True),
    # The list's keyset order (OCCUPATION_ORDER in adapters.repository).
    sa.Index("ix_occupations_listing", "title", "code"),
)

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("company_number", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("street", sa.String(200), nullable=True),
    sa.Column("postal_code", sa.String(10), nullable=True),
    sa.Column("city", sa.String(100), nullable=True),
    sa.Column("head_office_number", sa.String(20), sa.ForeignKey("companies.company_number"), nullable=True),
    sa.Column("branch_reach", sa.Boolean, nullable=False, default=False),
    sa.Column("atlas_consent", sa.Boolean, nullable=False, default=False),
    # The list's keyset order (COMPANY_ORDER in adapters.repository).
    sa.Index("ix_companies_listing", "name", "company_number"),
    # A head office's branches, by name (also the foreign key's index).
    sa.Index("ix_companies_branch_listing", "head_office_number", "name", "company_number"),
)

trainers = sa.Table(
    "trainers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("company_number", sa.String(20), sa.ForeignKey("companies.company_number"), nullable=False),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("qualified", sa.Boolean, nullable=False),
    sa.Column("removed_on", sa.Date, nullable=True),
    # The company's "Ausbilder/-in" page (TRAINER_ORDER); also the foreign key's index.
    sa.Index("ix_trainers_listing", "company_number", "last_name", "first_name", "id"),
)

apprentices = sa.Table(
    "apprentices",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("apprentice_number", sa.String(20), nullable=True, index=True),
)

apprentice_accounts = sa.Table(
    "apprentice_accounts",
    metadata,
    sa.Column("apprentice_number", sa.String(20), primary_key=True),
    sa.Column("account_id", sa.Uuid, nullable=False),
    sa.Column("state", _state_enum(AccountState, "account_state"), nullable=False),
    sa.Column("activated_at", UtcDateTime(), nullable=True),
)

# A trainer's account at identity (identity.account.invited / identity.account.activated).
trainer_accounts = sa.Table(
    "trainer_accounts",
    metadata,
    sa.Column("trainer_id", sa.Uuid, primary_key=True),
    sa.Column("account_id", sa.Uuid, nullable=False, index=True),
    sa.Column("state", _state_enum(AccountState, "account_state"), nullable=False),
    sa.Column("activated_at", UtcDateTime(), nullable=True),
)

contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("contract_number", sa.String(30), nullable=False, unique=True),
    sa.Column(
        "company_number",
        sa.String(20),
        sa.ForeignKey("companies.company_number"),
        nullable=False,
    ),
    sa.Column("apprentice_id", sa.Uuid, sa.ForeignKey("apprentices.id"), nullable=False, index=True),
    sa.Column("occupation_code", sa.String(20), sa.ForeignKey("occupations.code"), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("state", _state_enum(ContractState, "contract_state"), nullable=False),
    sa.Column("registered_by", sa.String(200), nullable=True),
    sa.Column("confirmation_opened_by_company_at", UtcDateTime(), nullable=True),
    sa.Column("confirmation_opened_by_apprentice_at", UtcDateTime(), nullable=True),
    sa.Column("specialism", sa.String(200), nullable=True),
    sa.Column("probation_months", sa.Integer, nullable=True),
    sa.Column("part_time", sa.Boolean, nullable=False, default=False),
    sa.Column("shortened_by_months", sa.Integer, nullable=False, default=0),
    sa.Column("trainer_id", sa.Uuid, sa.ForeignKey("trainers.id"), nullable=True, index=True),
    sa.Column("interrupted_since", sa.Date, nullable=True),
    sa.Column("ended_on", sa.Date, nullable=True),
    sa.Column("termination_reason", _state_enum(TerminationReason, "termination_reason"), nullable=True),
    sa.Column("source_key", sa.String(40), nullable=True, unique=True),
    sa.Column("source_fingerprint", sa.String(64), nullable=True),
    # The list's keyset order (CONTRACT_ORDER in adapters.repository): for the chamber, within
    # one company (also the company's foreign-key index), and within one occupation.
    sa.Index("ix_contracts_listing", sa.desc("registered_on"), sa.desc("contract_number")),
    sa.Index(
        "ix_contracts_company_listing",
        "company_number",
        sa.desc("registered_on"),
        sa.desc("contract_number"),
    ),
    sa.Index(
        "ix_contracts_occupation_listing",
        "occupation_code",
        sa.desc("registered_on"),
        sa.desc("contract_number"),
    ),
    sa.Index(
        "ix_contracts_state_listing",
        "state",
        sa.desc("registered_on"),
        sa.desc("contract_number"),
    ),
)

contract_changes = sa.Table(
    "contract_changes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("contract_id", sa.Uuid, sa.ForeignKey("contracts.id"), nullable=False),
    sa.Column("kind", _state_enum(ChangeKind, "change_kind"), nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=True),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    # A contract's history, oldest first (also the foreign key's index).
    sa.Index("ix_contract_changes_history", "contract_id", "recorded_at", "id"),
)

atlas_entries = sa.Table(
    "atlas_entries",
    metadata,
    sa.Column("company_number", sa.String(20), sa.ForeignKey("companies.company_number"), primary_key=True),
    sa.Column("occupation_code", sa.String(20), sa.ForeignKey("occupations.code"), primary_key=True),
    sa.Column("places", sa.Integer, nullable=False),
    sa.Column("postal_code", sa.String(5), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("contact_name", sa.String(200), nullable=True),
    sa.Column("contact_email", sa.String(254), nullable=True),
    sa.Column("contact_phone", sa.String(40), nullable=True),
    sa.Column("website", sa.String(300), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=True),
    # The public search (ATLAS_ORDER): by occupation, then postcode; and by city.
    sa.Index("ix_atlas_by_postcode", "occupation_code", "postal_code", "company_number"),
    sa.Index("ix_atlas_by_city", "occupation_code", "city", "postal_code", "company_number"),
)

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_by", sa.String(200), nullable=False),
    sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    sa.Column("status", _state_enum(ImportStatus, "import_status"), nullable=False),
    sa.Column("total_rows", sa.Integer, nullable=False),
    sa.Column("done_rows", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("created_count", sa.Integer, nullable=False),
    sa.Column("updated_count", sa.Integer, nullable=False),
    sa.Column("unchanged_count", sa.Integer, nullable=False),
    sa.Column("next_index", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("failure", sa.String(40), nullable=True),
    sa.Column("failure_detail", sa.String(500), nullable=True),
    sa.Column("worker", sa.String(100), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    # The job list, newest first (IMPORT_ORDER); the worker's queue.
    sa.Index("ix_import_jobs_listing", sa.desc("uploaded_at"), sa.desc("id")),
    sa.Index("ix_import_jobs_status", "status", "uploaded_at"),
)

# The uploaded bytes, apart from the job so that progress polls never load them.
import_files = sa.Table(
    "import_files",
    metadata,
    sa.Column("job_id", sa.Uuid, sa.ForeignKey("import_jobs.id"), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

import_row_errors = sa.Table(
    "import_row_errors",
    metadata,
    sa.Column("job_id", sa.Uuid, sa.ForeignKey("import_jobs.id"), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("field", sa.String(60), primary_key=True),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("message", sa.String(500), nullable=False),
)

# The last number handed out per registration year; UPDATE ... RETURNING serialises
# concurrent registrations on the year's row, so numbers never repeat.
contract_number_counters = sa.Table(
    "contract_number_counters",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_value", sa.Integer, nullable=False),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""
    global _mapped
    if _mapped:
        return
    mappings: list[tuple[type[Any], sa.Table]] = [
        (Occupation, occupations),
        (Company, companies),
        (Apprentice, apprentices),
        (ApprenticeAccount, apprentice_accounts),
        (Trainer, trainers),
        (TrainerAccount, trainer_accounts),
        (Contract, contracts),
        (ContractChange, contract_changes),
        (AtlasEntry, atlas_entries),
        (ImportJob, import_jobs),
        (ImportRowError, import_row_errors),
    ]
    for cls, table in mappings:
        mapper_registry.map_imperatively(cls, table)
    _mapped = True

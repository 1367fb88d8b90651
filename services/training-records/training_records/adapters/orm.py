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
    Company,
    Contract,
    ContractState,
    Occupation,
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
    # The list's keyset order (COMPANY_ORDER in adapters.repository).
    sa.Index("ix_companies_listing", "name", "company_number"),
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
        (Contract, contracts),
    ]
    for cls, table in mappings:
        mapper_registry.map_imperatively(cls, table)
    _mapped = True

"""Tables of the exams database and their imperative mapping to the domain."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from chassis.db import new_metadata
from chassis.events.tables import add_messaging_tables
from exams.domain.model import RegisteredContract

metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

registered_contracts = sa.Table(
    "registered_contracts",
    metadata,
    sa.Column("contract_id", sa.String(36), primary_key=True),
    sa.Column("contract_number", sa.String(30), nullable=False),
    sa.Column("company_number", sa.String(20), nullable=False),
    sa.Column("company_name", sa.String(200), nullable=False),
    sa.Column("apprentice_first_name", sa.String(100), nullable=False),
    sa.Column("apprentice_last_name", sa.String(100), nullable=False),
    sa.Column("apprentice_birth_date", sa.Date, nullable=False),
    sa.Column("occupation_code", sa.String(20), nullable=False),
    sa.Column("occupation_title", sa.String(200), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    # The list's keyset order, for all contracts and within one company.
    sa.Index("ix_registered_contracts_listing", sa.desc("registered_on"), "contract_number", "contract_id"),
    sa.Index(
        "ix_registered_contracts_company_listing",
        "company_number",
        sa.desc("registered_on"),
        "contract_number",
        "contract_id",
    ),
)

outbox, inbox = add_messaging_tables(metadata)

_mapped = False


def start_mappers() -> None:
    """Map once per process; the embedded mode and tests bootstrap many times."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(RegisteredContract, registered_contracts)
    _mapped = True

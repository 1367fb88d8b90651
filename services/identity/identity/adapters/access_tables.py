"""Tables of the access data identity hands out: invitation links and the register's people per company.

Kept apart from ``orm.py`` so that the feature's tables travel together; ``orm`` adds them to
identity's metadata and maps them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry

from chassis.db import UtcDateTime
from identity.domain.access_requests import AccessDataRequest
from identity.domain.company_access import CompanyAccess, RegisteredApprentice, RegisteredTrainer
from identity.domain.invitations import Invitation


def add_access_tables(metadata: sa.MetaData, id_type: sa.types.TypeEngine[Any]) -> dict[str, sa.Table]:
    """``id_type``: how identity stores account ids (its ``UuidText``)."""
    invitations = sa.Table(
        "invitations",
        metadata,
        # SHA-256 of the link's token: found by it, never stored in the clear.
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", id_type, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
    )
    # Which company an apprentice (by Azubinummer) trains at, from training.contract.registered.
    register_apprentices = sa.Table(
        "register_apprentices",
        metadata,
        sa.Column("company_number", sa.String(20), primary_key=True),
        sa.Column("apprentice_number", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    # A company's trainers, from training.trainer.added/changed/removed.
    register_trainers = sa.Table(
        "register_trainers",
        metadata,
        sa.Column("trainer_id", sa.Uuid, primary_key=True),
        sa.Column("company_number", sa.String(20), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    # A company's one-time Aktivierungscode (keyed hash) for its access letter (Anschreiben).
    company_accesses = sa.Table(
        "company_accesses",
        metadata,
        sa.Column("company_number", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(20), nullable=True),
        sa.Column("city", sa.String(200), nullable=True),
        sa.Column("code_hash", sa.String(255), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("issued_at", UtcDateTime(), nullable=True),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.Column("redeemed_by", id_type, nullable=True),
        # When the register stated the name and address (training.company.registered/changed).
        sa.Column("master_data_at", UtcDateTime(), nullable=True),
    )
    # Zugangsdaten erneut anfordern: what was asked (public form), until the chamber fulfils it.
    access_data_requests = sa.Table(
        "access_data_requests",
        metadata,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("fulfilled_at", UtcDateTime(), nullable=True),
        sa.Column("fulfilled_by", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.CheckConstraint("kind IN ('company', 'apprentice')", name="kind"),
        sa.Index("ix_access_data_requests_open", "kind", "number", "fulfilled_at"),
        sa.Index("ix_access_data_requests_listing", "created_at", "id"),
    )
    return {
        "access_data_requests": access_data_requests,
        "company_accesses": company_accesses,
        "invitations": invitations,
        "register_apprentices": register_apprentices,
        "register_trainers": register_trainers,
    }


def map_access_tables(mapper_registry: registry, tables: dict[str, sa.Table]) -> None:
    mapper_registry.map_imperatively(Invitation, tables["invitations"])
    mapper_registry.map_imperatively(CompanyAccess, tables["company_accesses"])
    mapper_registry.map_imperatively(AccessDataRequest, tables["access_data_requests"])
    mapper_registry.map_imperatively(RegisteredApprentice, tables["register_apprentices"])
    mapper_registry.map_imperatively(RegisteredTrainer, tables["register_trainers"])

"""Outbox and inbox tables, added to each service's own metadata.

Each service owns its database, so each gets its own copy of these tables and
its Alembic migrations create them like any other table.
"""

from __future__ import annotations

import sqlalchemy as sa

from chassis.db import UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox",
        metadata,
        # The position only orders the relay's work; claiming uses SKIP LOCKED,
        # never a high-water mark, because sequences commit out of order.
        sa.Column("position", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Index(
            "ix_outbox_unsent",
            "position",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        ),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("handled_at", UtcDateTime(), nullable=False),
    )


def add_messaging_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The chassis' tables in a service's metadata: outbox and inbox (returned), and the
    ``Idempotency-Key`` store of its API (``chassis.idempotency``, found by name)."""
    from chassis.idempotency_keys import idempotency_table

    idempotency_table(metadata)
    return outbox_table(metadata), inbox_table(metadata)

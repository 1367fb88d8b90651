"""The store of ``Idempotency-Key`` answers: table, migration helpers and purge.

SQLAlchemy only, so that a service's adapters can put the table in their metadata
without importing Flask; the HTTP side is ``chassis.idempotency``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chassis.db import UtcDateTime, new_metadata

PROCESSING = "processing"
COMPLETED = "completed"
_MAX_SCOPE = 255
_BATCH = 5000


def idempotency_table(metadata: sa.MetaData, name: str = "idempotency_keys") -> sa.Table:
    """The keys and stored answers of one service, in the service's own database."""
    return sa.Table(
        name,
        metadata,
        # Who sent the key (the token's subject): keys of different callers never meet.
        sa.Column("subject", sa.String(_MAX_SCOPE), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        # sha256 (hex) of the request body.
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        # The claim of the request now running, and until when it holds (NULL once completed).
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("locked_until", UtcDateTime(), nullable=True),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.Column("response_headers", sa.JSON, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(f"state IN ('{PROCESSING}', '{COMPLETED}')", name="state"),
        sa.Index(f"ix_{name}_expires_at", "expires_at"),
    )


def purge_expired(engine: Engine, table: sa.Table, now: datetime | None = None) -> int:
    """Delete keys whose time is up, in short batches; returns how many were deleted."""
    now = now or datetime.now(UTC)
    key = [table.c.subject, table.c.key]
    total = 0
    while True:
        with engine.begin() as conn:
            keys = [
                tuple(row)
                for row in conn.execute(sa.select(*key).where(table.c.expires_at <= now).limit(_BATCH))
            ]
            if keys:
                conn.execute(sa.delete(table).where(sa.tuple_(*key).in_(keys)))
        total += len(keys)
        if len(keys) < _BATCH:
            return total


def create_idempotency_table(name: str = "idempotency_keys") -> None:
    """Inside a service's migration: create the table exactly as the chassis defines it."""
    from alembic import op

    idempotency_table(new_metadata(), name).create(op.get_bind())


def drop_idempotency_table(name: str = "idempotency_keys") -> None:
    from alembic import op

    op.drop_table(name)

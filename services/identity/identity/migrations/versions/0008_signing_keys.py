"""The rotating set of token signing keys; the one key of before becomes its first member

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNING_KEY = "access-token-signing-key"
# What the guard row of server_secrets holds once the key lives in signing_keys.
MOVED = "signing_keys"


def upgrade() -> None:
    table = op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signs_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retire_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    secrets = sa.table("server_secrets", sa.column("name"), sa.column("value"), sa.column("created_at"))
    bind = op.get_bind()
    row = bind.execute(
        sa.select(secrets.c.value, secrets.c.created_at).where(secrets.c.name == SIGNING_KEY)
    ).first()
    if row is None or row.value == MOVED:
        return
    # The key every token so far was signed with keeps signing: no token becomes invalid.
    kid = json.loads(row.value)["kid"]
    created = row.created_at or datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                "kid": kid,
                "private_jwk": row.value,
                "created_at": created,
                "signs_from": created,
                "retire_at": None,
            }
        ],
    )
    bind.execute(sa.update(secrets).where(secrets.c.name == SIGNING_KEY).values(value=MOVED))


def downgrade() -> None:
    secrets = sa.table("server_secrets", sa.column("name"), sa.column("value"))
    keys = sa.table("signing_keys", sa.column("private_jwk"), sa.column("signs_from"))
    bind = op.get_bind()
    newest = bind.execute(sa.select(keys.c.private_jwk).order_by(keys.c.signs_from.desc()).limit(1)).scalar()
    if newest is not None:
        bind.execute(sa.update(secrets).where(secrets.c.name == SIGNING_KEY).values(value=newest))
    op.drop_table("signing_keys")

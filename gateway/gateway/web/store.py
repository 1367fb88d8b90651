"""The web app's own database: server-side sessions and the users' token sets.

The browser only holds a random session id (DESIGN §2 rule 5). Tokens live in
their own table, not in the session blob, so that concurrent requests of one
browser refresh them one at a time (refresh tokens rotate: a second refresh
with the same token would fail or even revoke the whole token family).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    make_url,
)

from chassis.db import make_engine, normalise_url

metadata = MetaData()

sessions = Table(
    "web_sessions",
    metadata,
    Column("store_id", String(128), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

token_sets = Table(
    "web_token_sets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("id_token", Text, nullable=True),
    # Seconds since the epoch, as the token endpoint's expires_at.
    Column("expires_at", Float, nullable=False),
    Column("claims", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def create_store_engine(database_url: str) -> Engine:
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # The embedded default lives under var/, which may not exist yet.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(database_url)


def create_schema(engine: Engine) -> None:
    # Two small tables owned by this app alone; no migrations history yet.
    metadata.create_all(engine)

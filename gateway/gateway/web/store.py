"""The web app's own database: server-side sessions, the users' token sets and form submissions.

The browser only holds a random session id (DESIGN §2 rule 5). Tokens live in
their own table, not in the session blob, so that concurrent requests of one
browser refresh them one at a time (refresh tokens rotate: a second refresh
with the same token would fail or even revoke the whole token family).

The schema is Alembic's (``gateway/web/migrations``), like every service's:
``bp-portal migrate-web`` (or ``migrate(url)``) runs once before the web
workers start; the app itself never creates tables, so that workers starting
together on a fresh database cannot race each other.
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
from chassis.migrations import upgrade

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

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

# One row per one-time form token of a creating form: a retried submission (same
# token) gets the first one's outcome instead of creating again (see ``submissions``).
form_submissions = Table(
    "web_form_submissions",
    metadata,
    Column("token", String(64), primary_key=True),
    # Whose submission it is: the outcome is only ever shown to the same user.
    Column("subject", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # "pending" while the API call runs, then "done"
    Column("outcome", Text, nullable=True),  # where the browser goes next (a path of this site)
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def create_store_engine(database_url: str) -> Engine:
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # The embedded default lives under var/, which may not exist yet.
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(database_url)


def migrate(database_url: str) -> None:
    """Bring the web database to the newest schema (Alembic); run once before the workers start."""
    upgrade(database_url, MIGRATIONS_DIR)


def create_schema(engine: Engine) -> None:
    """``migrate`` for the database behind ``engine`` (tests and tools that hold an engine)."""
    migrate(engine.url.render_as_string(hide_password=False))

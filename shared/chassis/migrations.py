"""Alembic, driven from code so that each service migrates its own database.

A service's ``migrations/env.py`` is just ``run_env(metadata)``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from chassis.db import make_engine, new_metadata, normalise_url
from chassis.events.tables import add_messaging_tables


def alembic_config(script_location: str | Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    # ConfigParser interpolation would eat a '%' in a password.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, script_location: str | Path, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, url), revision)


def run_env(target_metadata: sa.MetaData) -> None:
    """Body of every service's ``env.py``: online migrations, batch mode on SQLite."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def create_messaging_tables() -> None:
    """Inside a service's migration: create the outbox and inbox exactly as the chassis defines them.

    Every service's first migration calls this instead of spelling the tables out,
    so that the relay and the consumers find the same columns in every database.
    """
    from alembic import op

    metadata = new_metadata()
    # Outbox and inbox only: the idempotency keys came later, in their own revision
    # (chassis.idempotency.create_idempotency_table) in every service.
    for table in add_messaging_tables(metadata):
        table.create(op.get_bind())


def drop_messaging_tables() -> None:
    from alembic import op

    op.drop_table("inbox")
    op.drop_table("outbox")

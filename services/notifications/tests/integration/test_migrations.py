"""The Alembic migrations create exactly the tables the code uses, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chassis import migrations
from chassis.db import make_engine
from notifications.adapters.orm import metadata
from notifications.bootstrap import MIGRATIONS_DIR


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_migrations_match_the_models(backend: str, request: pytest.FixtureRequest, tmp_path) -> None:
    url = request.getfixturevalue("database_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/n.db"
    migrations.upgrade(url, MIGRATIONS_DIR)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == []

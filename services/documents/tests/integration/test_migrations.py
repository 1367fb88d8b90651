"""The Alembic migrations build exactly the schema the code maps, on PostgreSQL and SQLite, and undo it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chassis import migrations
from chassis.db import make_engine
from documents.adapters.orm import metadata
from documents.bootstrap import MIGRATIONS_DIR


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_migrations_match_the_models_and_downgrade_cleanly(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    url = request.getfixturevalue("database_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/d.db"
    migrations.upgrade(url, MIGRATIONS_DIR)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
        indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("documents")}
        assert {
            "ix_documents_listing",
            "ix_documents_company_listing",
            "ix_documents_apprentice_listing",
            "ix_documents_contract_listing",
        } <= indexes

        from alembic import command

        command.downgrade(migrations.alembic_config(MIGRATIONS_DIR, url), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(url, MIGRATIONS_DIR)
        assert "contract_turns" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()

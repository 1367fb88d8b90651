"""The UI's own tables are Alembic's: migrated once before the workers start, never by the app."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from flask import session

from chassis.db import make_engine
from gateway.cli import cli
from gateway.web.app import create_app
from gateway.web.config import WebSettings
from gateway.web.store import form_submissions, metadata, migrate, sessions, token_sets

TABLES = {"web_sessions", "web_token_sets", "web_form_submissions"}


def settings_for(url: str) -> WebSettings:
    return WebSettings.from_env(
        {
            "BP_PUBLIC_URL": "http://portal.test",
            "WEB_DATABASE_URL": url,
            "WEB_SECRET_KEY": "migration-test",
            "BP_WEB_CLIENT_SECRET": "migration-test-client",
        }
    )


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_starting_the_app_creates_no_tables(make_database: Callable[[str], str]) -> None:
    url = make_database("web")
    create_app(settings_for(url))
    assert tables(url) == set()


def test_first_start_on_a_fresh_database_migrates_once_then_two_workers_start_together(
    make_database: Callable[[str], str],
) -> None:
    url = make_database("web")
    result = CliRunner().invoke(cli, ["migrate-web"], env={"WEB_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert TABLES | {"alembic_version"} <= tables(url)

    # Two workers (gunicorn forks them together) build the app and serve at the same moment.
    start = threading.Barrier(2)
    failures: list[BaseException] = []
    served: list[str] = []

    def worker(name: str) -> None:
        try:
            start.wait(timeout=10)
            app = create_app(settings_for(url))

            @app.get("/probe")
            def probe() -> str:
                session["worker"] = name
                return "ok"

            with app.test_client() as client:
                assert client.get("/probe").status_code == 200
                with client.session_transaction() as stored:
                    served.append(stored["worker"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(served) == ["a", "b"]
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 2
    engine.dispose()


def test_migrating_again_changes_nothing(make_database: Callable[[str], str]) -> None:
    url = make_database("web")
    migrate(url)
    migrate(url)
    assert tables(url) >= TABLES


def test_a_database_from_before_migrations_is_adopted(make_database: Callable[[str], str]) -> None:
    """Until now the app created its two tables itself; such a database migrates as it is."""
    url = make_database("web")
    engine = make_engine(url)
    metadata.create_all(engine, tables=[sessions, token_sets])
    with engine.begin() as connection:
        connection.execute(
            sa.insert(sessions).values(store_id="web:kept", data=b"\x80", expires_at=sa.func.now())
        )
    migrate(url)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sessions.c.store_id)).scalars().all() == ["web:kept"]
    engine.dispose()
    assert tables(url) >= TABLES


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migrations_match_the_tables_the_code_uses(
    backend: str, make_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}" if backend == "sqlite" else make_database("web")
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert differences == []
    assert form_submissions.name in tables(url)

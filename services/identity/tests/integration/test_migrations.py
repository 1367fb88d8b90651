"""The Alembic migrations build exactly the schema the code maps."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from identity.adapters import orm
from identity.bootstrap import IdentityRuntime, seed_demo


def test_migrated_database_matches_the_metadata(runtime: IdentityRuntime) -> None:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, orm.metadata) == []


def test_migrating_again_is_harmless_and_demo_seeding_is_idempotent(runtime: IdentityRuntime) -> None:
    with runtime.uow_factory() as uow:
        before = len(uow.session.execute(orm.accounts.select()).all())
    runtime.migrate()
    seed_demo(runtime)
    with runtime.uow_factory() as uow:
        assert len(uow.session.execute(orm.accounts.select()).all()) == before
        assert len(uow.session.execute(orm.oauth_clients.select()).all()) == 1

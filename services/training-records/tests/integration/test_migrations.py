"""The Alembic migrations build exactly the schema the code maps."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime


def test_migrated_database_matches_the_metadata(runtime: TrainingRecordsRuntime) -> None:
    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, orm.metadata) == []


def test_migrating_again_is_harmless_and_demo_seeding_is_idempotent(
    runtime: TrainingRecordsRuntime,
) -> None:
    from training_records.bootstrap import seed_demo

    runtime.migrate()
    seed_demo(runtime)
    with runtime.uow_factory() as uow:
        rows = uow.session.execute(orm.contracts.select()).all()
    assert len(rows) == 1

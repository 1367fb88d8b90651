"""Integration fixtures: the real service on a fresh PostgreSQL database and RabbitMQ."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.config import ServiceSettings
from chassis.testing.running import RunningRuntime
from chassis.testing.tokens import TestIssuer
from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime, bootstrap, seed_demo
from training_records.entrypoints.app import build_app

COMPANY_A = "4711001"  # the demo company
COMPANY_B = "4711002"
DEMO_APPRENTICE_NUMBER = "20260001"


@pytest.fixture
def service(
    database_url: str, amqp_url: str, queue_prefix: str, test_issuer: TestIssuer, tmp_path: Path
) -> Iterator[RunningRuntime]:
    settings = ServiceSettings.from_env(
        "training-records",
        env={
            "TRAINING_RECORDS_DATABASE_URL": database_url,
            "BP_BUS_URL": amqp_url,
            # A private exchange and queue names per test: runs never see each other's events.
            "BP_EXCHANGE": f"{queue_prefix}events",
            "BP_QUEUE_PREFIX": queue_prefix,
            "BP_LOG_JSON": "0",
            "BP_DATA_DIR": str(tmp_path),
            "BP_CONSUMER_MAX_ATTEMPTS": "3",
        },
    )
    runtime = bootstrap(settings)
    runtime.migrate()
    seed_demo(runtime)
    # migrate() announced the shipped occupation catalogue (test_catalogue_events checks that);
    # the other tests start with an empty outbox, so that they see only their own events.
    with runtime.engine.begin() as connection:
        connection.execute(sa.delete(orm.outbox))
    runtime.token_validator = test_issuer.validator()
    service = RunningRuntime(runtime)
    yield service
    service.close()


@pytest.fixture
def runtime(service: RunningRuntime) -> TrainingRecordsRuntime:
    assert isinstance(service.runtime, TrainingRecordsRuntime)
    return service.runtime


@pytest.fixture
def client(runtime: TrainingRecordsRuntime) -> FlaskClient:
    return build_app(runtime).test_client()


@pytest.fixture
def auth(test_issuer: TestIssuer) -> Callable[..., dict[str, str]]:
    """``auth("chamber_clerk")``, ``auth(company_roles={...})``: an Authorization header."""

    def make(*roles: str, **claims: Any) -> dict[str, str]:
        return test_issuer.header(roles=list(roles), **claims)

    return make


@pytest.fixture
def clerk(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("chamber_clerk", name="Sabine Schreiber")


@pytest.fixture
def count_rows(runtime: TrainingRecordsRuntime) -> Callable[[], dict[str, int]]:
    """Rows per table of the service, to show that a refused request wrote nothing."""

    def count() -> dict[str, int]:
        with runtime.engine.connect() as connection:
            return {
                table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in orm.metadata.sorted_tables
            }

    return count


@pytest.fixture
def running_consumer(service: RunningRuntime) -> None:
    """The service's real event consumer, in a thread, for the duration of a test."""
    consumer = service.runtime.consumer()
    consumer.retry_delay = 0.05
    consumer.declare()
    service.run(consumer.run_until)

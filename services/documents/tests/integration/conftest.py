"""A real documents service on PostgreSQL and RabbitMQ: migrated database, consumer and relay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.config import ServiceSettings
from chassis.events.envelope import Envelope, new_envelope
from chassis.testing.publishing import publish_envelopes
from chassis.testing.running import RunningRuntime
from chassis.testing.tokens import TestIssuer
from documents.adapters import orm
from documents.bootstrap import bootstrap
from documents.entrypoints.app import build_app


class Service(RunningRuntime):
    def publish(self, envelope: Envelope) -> None:
        publish_envelopes(self.runtime.broker, envelope)

    def event(self, event_type: str, payload: dict[str, Any]) -> Envelope:
        return new_envelope(
            producer="test", event_type=event_type, subject=str(payload["contract_id"]), payload=payload
        )

    def rows(self, table: sa.Table, *where: Any) -> list[sa.Row]:
        with self.runtime.engine.connect() as conn:
            return list(conn.execute(sa.select(table).where(*where)))

    def count(self, table: sa.Table, *where: Any) -> int:
        with self.runtime.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()

    def handled(self, event_id: str) -> bool:
        return self.count(orm.inbox, orm.inbox.c.event_id == event_id) == 1


@pytest.fixture
def service_settings(database_url: str, amqp_url: str, queue_prefix: str, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings.from_env(
        "documents",
        {
            "DOCUMENTS_DATABASE_URL": database_url,
            "BP_BUS_URL": amqp_url,
            "BP_EXCHANGE": f"{queue_prefix}events",
            "BP_QUEUE_PREFIX": queue_prefix,
            "BP_PUBLIC_URL": "https://portal.example",
            "BP_DATA_DIR": str(tmp_path),
            "BP_OUTBOX_POLL_INTERVAL": "0.2",
            "DOCUMENTS_SECRET_KEY": "integration-test-secret",
            "BP_LOG_JSON": "0",
        },
    )


@pytest.fixture
def service(service_settings: ServiceSettings) -> Iterator[Service]:
    runtime = bootstrap(service_settings)
    runtime.migrate()
    svc = Service(runtime)
    yield svc
    svc.close()


@pytest.fixture
def running(service: Service) -> Service:
    """The service with its consumer and outbox relay running in threads, as the worker runs them."""
    service.start()
    return service


@pytest.fixture
def wait(wait_until: Callable[..., None]) -> Callable[..., None]:
    return wait_until


@pytest.fixture
def client(service: Service, test_issuer: TestIssuer) -> FlaskClient:
    service.runtime.token_validator = test_issuer.validator()
    app = build_app(service.runtime)
    app.config["TESTING"] = True
    return app.test_client()

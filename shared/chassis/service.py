"""The runtime of one service: what its bootstrap wires together.

Each service's ``bootstrap()`` returns a ``ServiceRuntime``. Gunicorn builds the
app from it, the worker CLI runs its relay and consumer, and the embedded mode
runs every service's runtime in one process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from chassis import migrations
from chassis.auth import JwksClient, TokenValidator
from chassis.config import ServiceSettings
from chassis.context import service_var
from chassis.db import make_engine, make_session_factory, ping
from chassis.events.bus import EventBus
from chassis.events.consumer import EventConsumer, Handler
from chassis.events.relay import OutboxRelay
from chassis.events.tables import add_messaging_tables
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    outbox: sa.Table
    inbox: sa.Table
    wakeup: OutboxWakeup
    bus: EventBus
    uow_factory: Callable[[], SqlAlchemyUnitOfWork]
    migrations_dir: Path
    app_builder: Callable[[ServiceRuntime], Flask]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    token_validator: TokenValidator | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.service_name

    def create_app(self) -> Flask:
        return self.app_builder(self)

    def migrate(self) -> None:
        migrations.upgrade(self.settings.database_url, self.migrations_dir)

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            service_name=self.name,
            engine=self.engine,
            outbox=self.outbox,
            bus=self.bus,
            wakeup=self.wakeup,
            poll_interval=self.settings.outbox_poll_interval,
        )

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            consumer_name=self.name,
            bus=self.bus,
            handlers=self.handlers,
            uow_factory=self.uow_factory,
            max_attempts=self.settings.consumer_max_attempts,
        )

    def readiness_checks(self) -> list[Callable[[], None]]:
        def database() -> None:
            ping(self.engine)

        def broker() -> None:
            if self.bus.is_memory:
                return
            with self.bus.connection() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)

        return [database, broker]

    def start_background(self, stop: threading.Event) -> list[threading.Thread]:
        """Run the relay and (if the service consumes events) the consumer in threads."""
        threads = []

        def _named(target: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                service_var.set(self.name)
                target()

            return run

        relay = self.relay()
        threads.append(
            threading.Thread(target=_named(lambda: relay.run(stop)), name=f"{self.name}-relay", daemon=True)
        )
        if self.handlers:
            consumer = self.consumer()
            consumer.declare()
            threads.append(
                threading.Thread(
                    target=_named(lambda: consumer.run_until(stop)), name=f"{self.name}-consumer", daemon=True
                )
            )
        for thread in threads:
            thread.start()
        return threads


def build_runtime(
    settings: ServiceSettings,
    *,
    metadata: sa.MetaData,
    migrations_dir: Path,
    uow_class: type[SqlAlchemyUnitOfWork],
    app_builder: Callable[[ServiceRuntime], Flask],
    handlers: Mapping[str, Handler] | None = None,
    outbox_inbox: tuple[sa.Table, sa.Table] | None = None,
    engine: Engine | None = None,
) -> ServiceRuntime:
    """The common wiring; a service's bootstrap passes what is its own.

    ``metadata`` must already hold the outbox and inbox tables (pass them as
    ``outbox_inbox``), added with ``chassis.events.tables.add_messaging_tables``.
    """
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    outbox, inbox = outbox_inbox or add_messaging_tables(metadata)
    wakeup = OutboxWakeup()
    bus = EventBus(
        settings.bus_url,
        settings.exchange,
        max_attempts=settings.consumer_max_attempts,
        queue_prefix=settings.queue_prefix,
    )

    def uow_factory() -> SqlAlchemyUnitOfWork:
        return uow_class(
            session_factory, producer=settings.service_name, outbox=outbox, inbox=inbox, wakeup=wakeup
        )

    validator = TokenValidator(
        JwksClient(settings.jwks_url).key_set, issuer=settings.issuer, audience=settings.audience
    )
    return ServiceRuntime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        outbox=outbox,
        inbox=inbox,
        wakeup=wakeup,
        bus=bus,
        uow_factory=uow_factory,
        migrations_dir=migrations_dir,
        app_builder=app_builder,
        handlers=dict(handlers or {}),
        token_validator=validator,
    )

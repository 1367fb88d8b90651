"""The runtime of one service: what its bootstrap wires together, typed.

Each service's ``bootstrap()`` returns a subclass of ``ServiceRuntime`` that adds
its own dependencies as typed fields (no string-keyed extras). Gunicorn builds
the app from it (``<pkg>.entrypoints.app.create_app``), the ``worker`` command
runs its declared background workers, and the embedded mode runs every
service's runtime in one process and starts the same workers in threads.
The bootstrap never imports the entrypoints, so there is no import cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from chassis import migrations
from chassis.auth import JwksClient, TokenValidator
from chassis.config import ServiceSettings
from chassis.context import service_var
from chassis.db import make_engine, make_session_factory, ping
from chassis.events.bus import EventBus
from chassis.events.consumer import EventConsumer
from chassis.events.relay import OutboxRelay
from chassis.events.retention import RetentionWorker
from chassis.messagebus import (
    CommandHandler,
    EventHandler,
    MessageBus,
    collect_use_cases,
    inject_dependencies,
)
from chassis.messages import Command, Query
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)

U = TypeVar("U", bound=SqlAlchemyUnitOfWork)
R = TypeVar("R", bound="ServiceRuntime[Any]")


@dataclass(frozen=True)
class Worker:
    """A piece of background work a service declares; both run modes start it the same way."""

    name: str
    run: Callable[[threading.Event], None]  # returns when the event is set
    prepare: Callable[[], None] | None = None  # quick set-up before anything serves (declare queues)


@dataclass(kw_only=True)
class ServiceRuntime(Generic[U]):
    settings: ServiceSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    outbox: sa.Table
    inbox: sa.Table
    idempotency_keys: sa.Table
    wakeup: OutboxWakeup
    broker: EventBus
    uow_factory: Callable[[], U]
    bus: MessageBus[U]
    migrations_dir: Path
    token_validator: TokenValidator

    @property
    def name(self) -> str:
        return self.settings.service_name

    def migrate(self) -> None:
        migrations.upgrade(self.settings.database_url, self.migrations_dir)

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            service_name=self.name,
            engine=self.engine,
            outbox=self.outbox,
            bus=self.broker,
            wakeup=self.wakeup,
            poll_interval=self.settings.outbox_poll_interval,
        )

    def consumer(self) -> EventConsumer:
        settings = self.settings
        return EventConsumer(
            bus=self.broker,
            messagebus=self.bus,
            max_attempts=settings.consumer_max_attempts,
            batch_size=settings.consumer_batch,
            batch_wait=settings.consumer_batch_wait,
            batch_idle=settings.consumer_batch_idle,
        )

    def retention(self) -> RetentionWorker:
        return RetentionWorker(
            self.engine,
            self.outbox,
            self.inbox,
            days=self.settings.message_retention_days,
            idempotency_keys=self.idempotency_keys,
        )

    def workers(self) -> list[Worker]:
        """The background work of this service; subclasses add theirs (``super().workers() + [...]``)."""
        relay = self.relay()
        workers = [Worker("relay", relay.run), Worker("retention", self.retention().run)]
        if self.bus.subscribed_event_types:
            consumer = self.consumer()
            workers.append(Worker("consumer", consumer.run_until, prepare=consumer.declare))
        return workers

    def readiness_checks(self) -> list[Callable[[], None]]:
        def database() -> None:
            ping(self.engine)

        def broker() -> None:
            if self.broker.is_memory:
                return
            with self.broker.connection() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)

        return [database, broker]

    def start_workers(self, stop: threading.Event, only: set[str] | None = None) -> list[threading.Thread]:
        """Start the declared workers (or those named in ``only``) in daemon threads."""
        threads = []
        for worker in self.workers():
            if only is not None and worker.name not in only:
                continue
            if worker.prepare is not None:
                worker.prepare()
            threads.append(
                threading.Thread(
                    target=_in_service_context(self.name, worker.run, stop),
                    name=f"{self.name}-{worker.name}",
                    daemon=True,
                )
            )
        for thread in threads:
            thread.start()
        return threads


def _in_service_context(
    name: str, run: Callable[[threading.Event], None], stop: threading.Event
) -> Callable[[], None]:
    def target() -> None:
        service_var.set(name)
        run(stop)

    return target


def build_runtime(
    runtime_class: type[R],
    settings: ServiceSettings,
    *,
    metadata: sa.MetaData,
    migrations_dir: Path,
    uow_class: type[SqlAlchemyUnitOfWork],
    use_cases: Sequence[ModuleType] = (),
    command_handlers: Mapping[type[Command | Query], CommandHandler[Any]] | None = None,
    event_handlers: Mapping[str, EventHandler[Any]] | None = None,
    handler_dependencies: Mapping[str, Any] | None = None,
    engine: Engine | None = None,
    **fields: Any,
) -> R:
    """The common wiring; a service's bootstrap passes what is its own.

    ``metadata`` must hold the chassis' tables (``add_messaging_tables``). ``use_cases``:
    the service's use-case modules, whose handler maps ``collect_use_cases`` merges (the
    explicit maps are for tests that wire single handlers).
    ``handler_dependencies`` are bound to the handlers that declare them as keyword-only
    parameters; ``fields`` are the runtime subclass's own typed fields.
    """
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    outbox, inbox = metadata.tables["outbox"], metadata.tables["inbox"]
    idempotency_keys = metadata.tables["idempotency_keys"]
    wakeup = OutboxWakeup()
    broker = EventBus(
        settings.bus_url,
        settings.exchange,
        max_attempts=settings.consumer_max_attempts,
        queue_prefix=settings.queue_prefix,
    )

    def uow_factory() -> SqlAlchemyUnitOfWork:
        return uow_class(
            session_factory, producer=settings.service_name, outbox=outbox, inbox=inbox, wakeup=wakeup
        )

    collected = collect_use_cases(use_cases)
    command_handlers = {**collected.command_handlers, **(command_handlers or {})}
    event_handlers = {**collected.event_handlers, **(event_handlers or {})}
    bus: MessageBus[Any] = MessageBus(
        uow_factory,
        consumer_name=settings.service_name,
        command_handlers=inject_dependencies(command_handlers or {}, handler_dependencies or {}),
        event_handlers=inject_dependencies(event_handlers or {}, handler_dependencies or {}),
    )
    validator = TokenValidator(
        JwksClient(settings.jwks_url).key_set, issuer=settings.issuer, audience=settings.audience
    )
    return runtime_class(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        outbox=outbox,
        inbox=inbox,
        idempotency_keys=idempotency_keys,
        wakeup=wakeup,
        broker=broker,
        uow_factory=uow_factory,
        bus=bus,
        migrations_dir=migrations_dir,
        token_validator=validator,
        **fields,
    )

"""Fixtures of the chassis' own tests: a minimal service around the event pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.contracts.training import ContractRegistered
from chassis.db import make_engine, make_session_factory
from chassis.events.bus import EventBus
from chassis.events.catalogue import load_payload
from chassis.events.consumer import EventConsumer
from chassis.events.incoming import IncomingEvent
from chassis.events.relay import OutboxRelay
from chassis.events.tables import add_messaging_tables
from chassis.messagebus import MessageBus
from chassis.testing.running import BackgroundThreads
from chassis.testing.samples import contract_registered_payload
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork


@pytest.fixture
def contract_payload() -> Any:
    return contract_registered_payload


EVENT = "training.contract.registered"
CONSUMER = "exams"  # a catalogued consumer of EVENT


class Harness(BackgroundThreads):
    """A one-table service: the relay publishes its outbox, the consumer records contract ids."""

    event = EVENT
    consumer_name = CONSUMER

    def __init__(self, db_url: str, bus_url: str, prefix: str):
        self.metadata = sa.MetaData()
        self.seen = sa.Table("seen", self.metadata, sa.Column("contract_id", sa.String(36), primary_key=True))
        self.outbox, self.inbox = add_messaging_tables(self.metadata)
        self.engine = make_engine(db_url)
        self.metadata.create_all(self.engine)
        self.sessions = make_session_factory(self.engine)
        self.wakeup = OutboxWakeup()
        bus = EventBus(bus_url, f"{prefix}events", queue_prefix=prefix, max_attempts=3)
        super().__init__(bus, self.engine)
        self.fail_times = 0
        self.handling_time = 0.0
        self.failure: Callable[[], Exception] = lambda: RuntimeError("transient failure")
        self.always_failing: set[str] = set()  # contract ids whose handling fails every time
        # Runs inside the handler's unit of work, before its commit (e.g. to drop its connection).
        self.during_handling: Callable[[SqlAlchemyUnitOfWork, str], None] | None = None

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self.sessions,
            producer="training-records",
            outbox=self.outbox,
            inbox=self.inbox,
            wakeup=self.wakeup,
        )

    def handler(self, event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        """A use case as every service writes one: it owns its unit of work and commits once."""
        with uow:
            if self.handling_time:
                # A slow handler keeps work in flight when a test pulls a server away.
                uow.session.execute(sa.text("SELECT 1"))
                time.sleep(self.handling_time)
            if self.fail_times > 0:
                self.fail_times -= 1
                raise self.failure()
            contract_id = str(event.payload.contract_id)
            if contract_id in self.always_failing:
                raise RuntimeError(f"contract {contract_id} cannot be handled")
            if self.during_handling is not None:
                self.during_handling(uow, contract_id)
            uow.session.execute(sa.insert(self.seen).values(contract_id=contract_id))
            uow.commit()

    def messagebus(self) -> MessageBus[SqlAlchemyUnitOfWork]:
        return MessageBus(self.uow, consumer_name=CONSUMER, event_handlers={EVENT: self.handler})

    def consumer(self, **options: Any) -> EventConsumer:
        """The consumer as a service runs it (batches of 100, handled when quiet for 1 ms, at most 50 ms after the first) unless ``options`` say otherwise."""
        return EventConsumer(
            bus=self.bus, messagebus=self.messagebus(), max_attempts=3, retry_delay=0.01, **options
        )

    def relay(self) -> OutboxRelay:
        return OutboxRelay(
            service_name="training-records",
            engine=self.engine,
            outbox=self.outbox,
            bus=self.bus,
            wakeup=self.wakeup,
            poll_interval=0.2,
        )

    def start(self) -> None:
        relay = self.relay()
        consumer = self.consumer()
        consumer.declare()
        self.run(relay.run)
        self.run(consumer.run_until)

    def relay_all(self) -> None:
        """Publish every committed outbox row now (no relay thread)."""
        relay = self.relay()
        while relay.relay_batch():
            pass
        relay.publisher.close()

    def seen_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.select(self.seen.c.contract_id))}

    def emit(self, **overrides: Any) -> str:
        """Commit one ``training.contract.registered`` event; returns its contract id."""
        payload = contract_registered_payload(**overrides)
        with self.uow() as uow:
            uow.emit(load_payload(EVENT, 1, payload), subject=payload["contract_id"])
            uow.commit()
        return payload["contract_id"]


@pytest.fixture
def make_harness(queue_prefix: str) -> Iterator[Callable[[str, str], Harness]]:
    made: list[Harness] = []

    def make(db_url: str, bus_url: str) -> Harness:
        harness = Harness(db_url, bus_url, queue_prefix)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()

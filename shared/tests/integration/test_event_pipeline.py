"""The outbox → relay → broker → consumer pipeline against real PostgreSQL and RabbitMQ,
and the same code on kombu's in-memory transport with SQLite (embedded mode)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chassis.db import make_engine, make_session_factory
from chassis.events import dlq
from chassis.events.bus import EventBus, Publisher
from chassis.events.consumer import EventConsumer, IncomingEvent
from chassis.events.envelope import new_envelope
from chassis.events.relay import OutboxRelay
from chassis.events.tables import add_messaging_tables
from chassis.testing.running import BackgroundThreads
from chassis.testing.waiting import wait_until
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork

EVENT = "training.contract.registered"
CONSUMER = "exams"  # a catalogued consumer of EVENT


class Harness(BackgroundThreads):
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

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self.sessions,
            producer="training-records",
            outbox=self.outbox,
            inbox=self.inbox,
            wakeup=self.wakeup,
        )

    def handler(self, event: IncomingEvent, uow: SqlAlchemyUnitOfWork) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("transient failure")
        uow.session.execute(sa.insert(self.seen).values(contract_id=str(event.data["contract_id"])))

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            consumer_name=CONSUMER,
            bus=self.bus,
            handlers={EVENT: self.handler},
            uow_factory=self.uow,
            max_attempts=3,
            retry_delay=0.01,
        )

    def start(self) -> None:
        relay = OutboxRelay(
            service_name="training-records",
            engine=self.engine,
            outbox=self.outbox,
            bus=self.bus,
            wakeup=self.wakeup,
            poll_interval=0.2,
        )
        consumer = self.consumer()
        consumer.declare()
        self.run(relay.run)
        self.run(consumer.run_until)

    def seen_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.select(self.seen.c.contract_id))}


@pytest.fixture(params=["rabbitmq+postgres", "memory+sqlite"])
def harness(
    request: pytest.FixtureRequest, queue_prefix: str, tmp_path: Path, contract_payload: Callable[..., dict]
) -> Iterator[Harness]:
    if request.param == "rabbitmq+postgres":
        db_url = request.getfixturevalue("database_url")
        bus_url = request.getfixturevalue("amqp_url")
    else:
        db_url = f"sqlite:///{tmp_path / 'svc.db'}"
        bus_url = "memory://"
    h = Harness(db_url, bus_url, queue_prefix)
    h.make_payload = contract_payload  # type: ignore[attr-defined]
    yield h
    h.close()


def emit(h: Harness, **overrides: object) -> str:
    payload = h.make_payload(**overrides)
    with h.uow() as uow:
        uow.emit(EVENT, payload["contract_id"], payload)
        uow.commit()
    return payload["contract_id"]


def test_committed_event_reaches_consumer_once(harness: Harness) -> None:
    harness.start()
    ids = {emit(harness) for _ in range(5)}
    wait_until(lambda: harness.seen_ids() == ids)
    with harness.engine.connect() as conn:
        unsent = conn.execute(sa.select(sa.func.count()).where(harness.outbox.c.sent_at.is_(None))).scalar()
    assert unsent == 0


def test_rolled_back_unit_of_work_emits_nothing(harness: Harness) -> None:
    payload = harness.make_payload()  # type: ignore[attr-defined]
    with harness.uow() as uow:
        uow.emit(EVENT, payload["contract_id"], payload)
        # no commit: leaving the block rolls back
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(harness.outbox)).scalar() == 0


def test_redelivered_event_is_applied_once(harness: Harness) -> None:
    harness.start()
    contract_id = emit(harness)
    wait_until(lambda: contract_id in harness.seen_ids())
    with harness.engine.connect() as conn:
        body = conn.execute(sa.select(harness.outbox.c.body)).scalar_one()
    publisher = Publisher(harness.bus)
    publisher.publish(body, routing_key=EVENT)  # the same event id again
    publisher.close()
    with harness.engine.connect() as conn:
        wait_until(
            lambda: (
                conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar() == 1
                and harness.seen_ids() == {contract_id}
            )
        )
    time.sleep(0.5)
    assert harness.seen_ids() == {contract_id}


def test_transient_failure_is_retried(harness: Harness) -> None:
    harness.fail_times = 2  # max_attempts is 3
    harness.start()
    contract_id = emit(harness)
    wait_until(lambda: contract_id in harness.seen_ids())


def test_poison_and_exhausted_messages_are_dead_lettered_and_replayable(harness: Harness) -> None:
    harness.start()
    queue = harness.bus.queue_name(CONSUMER, EVENT)
    bad = new_envelope(
        producer="training-records",
        event_type=EVENT,
        subject="x",
        payload={"contract_id": "not-a-uuid"},
    )
    publisher = Publisher(harness.bus)
    publisher.publish(bad.to_json(), routing_key=EVENT, message_id=bad.id)
    publisher.publish(b"{not json", routing_key=EVENT)
    publisher.close()

    harness.fail_times = 99
    contract_id = emit(harness)

    def letters() -> list[dlq.DeadLetter]:
        return dlq.inspect(harness.bus, queue)

    wait_until(lambda: len(letters()) == 3)
    reasons = " ".join(letter.reason for letter in letters())
    assert "invalid payload" in reasons and "failed 3 times" in reasons
    assert harness.seen_ids() == set()  # nothing half-written

    harness.fail_times = 0
    assert dlq.replay(harness.bus, queue) == 3
    wait_until(lambda: contract_id in harness.seen_ids())
    # The two poison messages are back in the DLQ; the good one was applied once.
    wait_until(lambda: len(letters()) == 2)
    remaining = {letter.body for letter in letters()}
    assert b"{not json".decode() in remaining
    assert any(json.loads(body).get("id") == bad.id for body in remaining if body.startswith('{"'))

"""Events applied in batches: one transaction per batch, a savepoint per handler, inbox rows in the
same transaction (PostgreSQL and RabbitMQ, and SQLite with kombu's in-memory transport)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from chassis.contracts.training import ContractRegistered
from chassis.events import dlq
from chassis.events.bus import Publisher
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, own_transaction
from chassis.metrics import EVENTS_HANDLED
from chassis.testing.samples import contract_registered_payload
from chassis.testing.waiting import wait_until
from chassis.uow import SqlAlchemyUnitOfWork


@pytest.fixture(params=["rabbitmq+postgres", "memory+sqlite"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, make_harness: Callable[..., Any]) -> Any:
    if request.param == "rabbitmq+postgres":
        return make_harness(request.getfixturevalue("database_url"), request.getfixturevalue("amqp_url"))
    return make_harness(f"sqlite:///{tmp_path / 'svc.db'}", "memory://")


def incoming(contract_id: str | None = None) -> IncomingEvent[ContractRegistered]:
    payload = contract_registered_payload(**({"contract_id": contract_id} if contract_id else {}))
    envelope = new_envelope(
        producer="training-records",
        event_type=ContractRegistered.TYPE,
        subject=payload["contract_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, load_payload(envelope.type, 1, payload))  # type: ignore[arg-type]


@contextmanager
def commits_counted(engine: sa.Engine) -> Iterator[list[int]]:
    """Transactions committed on ``engine`` while the block runs (savepoint releases are not commits)."""
    counted: list[int] = []

    def count(_connection: Any) -> None:
        counted.append(1)

    sa.event.listen(engine, "commit", count)
    try:
        yield counted
    finally:
        sa.event.remove(engine, "commit", count)


def rows(harness: Any, table: sa.Table) -> int:
    with harness.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def outcome_count(harness: Any, outcome: str) -> float:
    return float(EVENTS_HANDLED.labels(harness.consumer_name, harness.event, outcome)._value.get())


# -- the message bus on a real database ---------------------------------------------------------


def test_a_batch_commits_once_with_every_inbox_row_and_emitted_event(harness: Any) -> None:
    def handler(event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        with uow:
            uow.session.execute(sa.insert(harness.seen).values(contract_id=str(event.payload.contract_id)))
            uow.emit(event.payload, subject=event.envelope.subject)  # an event of its own, via the outbox
            uow.commit()

    bus = MessageBus(harness.uow, consumer_name="exams", event_handlers={harness.event: handler})
    events = [incoming() for _ in range(5)]
    with commits_counted(harness.engine) as commits:
        assert bus.handle_events(events) == ["handled"] * 5
    assert len(commits) == 1
    assert harness.seen_ids() == {str(e.payload.contract_id) for e in events}
    assert (rows(harness, harness.inbox), rows(harness, harness.outbox)) == (5, 5)
    assert harness.wakeup.wait(0)  # the relay is woken once the batch has landed


@contextmanager
def statements_seen(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` while the block runs (an executemany counts once)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_a_batch_whose_handlers_all_commit_takes_no_savepoints_one_outbox_and_one_inbox_statement(
    harness: Any,
) -> None:
    def handler(event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        with uow:
            uow.session.execute(sa.insert(harness.seen).values(contract_id=str(event.payload.contract_id)))
            uow.emit(event.payload, subject=event.envelope.subject)
            uow.commit()

    bus = MessageBus(harness.uow, consumer_name="exams", event_handlers={harness.event: handler})
    events = [incoming() for _ in range(5)]
    with statements_seen(harness.engine) as statements:
        assert bus.handle_events(events) == ["handled"] * 5
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert len([s for s in statements if s.upper().startswith("INSERT INTO OUTBOX")]) == 1
    # The inbox: one statement claims the batch's rows (no look-up before, no insert at the commit).
    assert [s.split()[0].upper() for s in statements if "inbox" in s.lower()] == ["INSERT"]
    with harness.engine.connect() as conn:
        bodies = list(
            conn.execute(sa.select(harness.outbox.c.body).order_by(harness.outbox.c.position)).scalars()
        )
    # In the order the handlers emitted them.
    assert [json.loads(body)["subject"] for body in bodies] == [e.envelope.subject for e in events]


def test_a_handler_that_leaves_its_unit_of_work_uncommitted_keeps_nothing_of_it(harness: Any) -> None:
    """Without a savepoint nothing of one event alone can be undone: the bus applies the batch again
    with savepoints, so the uncommitted write is gone and the others' effects are kept once."""
    events = [incoming() for _ in range(3)]
    calls: list[str] = []

    def handler(event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        calls.append(event.id)
        with uow:
            uow.session.execute(sa.insert(harness.seen).values(contract_id=str(event.payload.contract_id)))
            uow.emit(event.payload, subject=event.envelope.subject)
            if event.id != events[1].id:
                uow.commit()

    bus = MessageBus(harness.uow, consumer_name="exams", event_handlers={harness.event: handler})
    assert bus.handle_events(events) == ["handled"] * 3
    assert harness.seen_ids() == {str(events[i].payload.contract_id) for i in (0, 2)}
    assert rows(harness, harness.outbox) == 2
    assert rows(harness, harness.inbox) == 3  # it was handled: it chose to change nothing
    assert len(calls) == 5  # the first try stopped at the second event


def test_a_failing_event_rolls_back_only_itself(harness: Any) -> None:
    events = [incoming() for _ in range(4)]
    harness.always_failing = {str(events[1].payload.contract_id)}
    # A database error inside a handler (the seen table's key) must not break the batch either.
    duplicate_key = incoming(str(events[0].payload.contract_id))
    with commits_counted(harness.engine) as commits:
        results = harness.messagebus().handle_events([*events, duplicate_key])
    assert len(commits) == 1
    assert [r if isinstance(r, str) else type(r).__name__ for r in results] == [
        "handled",
        "RuntimeError",
        "handled",
        "handled",
        "IntegrityError",
    ]
    assert harness.seen_ids() == {str(events[i].payload.contract_id) for i in (0, 2, 3)}
    with harness.engine.connect() as conn:
        recorded = set(conn.execute(sa.select(harness.inbox.c.event_id)).scalars())
    assert recorded == {events[i].id for i in (0, 2, 3)}


def test_a_redelivered_batch_applies_nothing_twice(harness: Any) -> None:
    bus = harness.messagebus()
    events = [incoming() for _ in range(3)]
    assert bus.handle_events(events) == ["handled"] * 3
    # The whole batch again, plus a new event delivered twice within the batch.
    new = incoming()
    assert bus.handle_events([*events, new, new]) == ["duplicate"] * 3 + ["handled", "duplicate"]
    assert rows(harness, harness.inbox) == 4 and len(harness.seen_ids()) == 4


def test_an_unreachable_database_in_a_handler_commits_nothing_of_the_batch(harness: Any) -> None:
    events = [incoming() for _ in range(3)]
    failing = str(events[1].payload.contract_id)

    def unreachable(uow: Any, contract_id: str) -> None:
        if contract_id == failing:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    harness.during_handling = unreachable
    results = harness.messagebus().handle_events(events)
    assert all(isinstance(r, OperationalError) for r in results)
    assert harness.seen_ids() == set() and rows(harness, harness.inbox) == 0


def test_a_concurrent_delivery_waits_for_the_batch_holding_its_event_and_is_a_duplicate(
    make_harness: Any, database_url: str
) -> None:
    """Another consumer process gets an event of the batch while the batch is open (a redelivery):
    its claim waits until the batch committed, then finds the event handled: its handler is not
    even called, nothing is applied twice and nobody fails."""
    harness = make_harness(database_url, "memory://")  # PostgreSQL: SQLite has one writer at a time
    events = [incoming() for _ in range(3)]
    late = events[1]
    other: list[Any] = []
    finished = threading.Event()
    called: list[str] = []

    def other_process() -> None:
        other.append(harness.messagebus().handle_events([late]))
        finished.set()

    def concurrent_delivery(uow: Any, contract_id: str) -> None:
        called.append(contract_id)
        if contract_id == str(events[2].payload.contract_id) and not other:
            thread = threading.Thread(target=other_process, daemon=True)
            thread.start()
            other.append(thread)
            assert not finished.wait(0.5), "the other delivery did not wait for the batch's claim"

    harness.during_handling = concurrent_delivery
    with commits_counted(harness.engine) as commits:
        assert harness.messagebus().handle_events(events) == ["handled"] * 3
        assert finished.wait(10)
    assert other[1] == ["duplicate"]
    assert called == [str(e.payload.contract_id) for e in events]
    assert len(commits) == 1  # the batch's; the duplicate commits nothing
    assert harness.seen_ids() == {str(e.payload.contract_id) for e in events}
    assert rows(harness, harness.inbox) == 3


def test_a_failure_that_breaks_the_batchs_transaction_costs_only_its_own_event(
    make_harness: Any, database_url: str
) -> None:
    """A statement that fails outside the handler's savepoint (after its commit) leaves PostgreSQL's
    transaction unusable; the batch then ends and its events are handled one by one."""
    harness = make_harness(database_url, "memory://")
    events = [incoming() for _ in range(3)]
    culprit = events[1].id

    def handler(event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        with uow:
            uow.session.execute(sa.insert(harness.seen).values(contract_id=str(event.payload.contract_id)))
            uow.commit()
            if event.id == culprit:
                uow.session.execute(sa.text("SELECT 1/0"))  # after the commit: no savepoint around it

    bus = MessageBus(harness.uow, consumer_name="exams", event_handlers={harness.event: handler})
    results = bus.handle_events(events)
    assert results[0] == "handled" and results[2] == "handled"
    assert isinstance(results[1], sa.exc.DBAPIError)
    assert harness.seen_ids() == {str(events[i].payload.contract_id) for i in (0, 2)}
    assert rows(harness, harness.inbox) == 2


def test_a_handler_registered_own_transaction_commits_alone_and_recognises_a_redelivery(harness: Any) -> None:
    entered: list[str] = []

    def slow(event: IncomingEvent[ContractRegistered], uow: SqlAlchemyUnitOfWork) -> None:
        entered.append(event.id)
        with uow:
            uow.session.execute(sa.insert(harness.seen).values(contract_id=str(event.payload.contract_id)))
            uow.commit()

    bus = MessageBus(
        harness.uow, consumer_name="exams", event_handlers={harness.event: own_transaction(slow)}
    )
    events = [incoming() for _ in range(2)]
    with commits_counted(harness.engine) as commits:
        assert bus.handle_events(events) == ["handled", "handled"]
    assert len(commits) == 2
    assert bus.handle_events(events) == ["duplicate", "duplicate"]  # stopped at its `with uow:`
    assert entered == [e.id for e in events] * 2
    assert len(harness.seen_ids()) == 2 and rows(harness, harness.inbox) == 2


# -- the consumer: batches from the broker -------------------------------------------------------


def test_the_consumer_commits_once_per_batch(harness: Any) -> None:
    ids = {harness.emit() for _ in range(30)}
    harness.relay_all()
    consumer = harness.consumer(batch_size=10, batch_wait=5.0, batch_idle=5.0)
    consumer.declare()
    with commits_counted(harness.engine) as commits:
        harness.run(consumer.run_until)
        wait_until(lambda: harness.seen_ids() == ids, 30)
        harness.stop_threads()
    assert len(commits) == 3
    assert rows(harness, harness.inbox) == 30
    # Every delivery was acked (on RabbitMQ with one multiple ack per batch): none came back
    # to the queue when the consumer's connection closed.
    with harness.bus.connection() as conn:
        queue = harness.bus.queue(harness.consumer_name, harness.event)(conn.default_channel)
        assert queue.queue_declare(passive=True).message_count == 0


def test_a_lone_event_is_not_held_back_for_a_full_batch(harness: Any) -> None:
    harness.start()  # batches of 100, 50 ms wait
    contract_id = harness.emit()
    wait_until(lambda: contract_id in harness.seen_ids(), 5)


def test_a_lone_event_after_a_quiet_spell_waits_for_no_batch_timer(harness: Any) -> None:
    """The queues were quiet for longer than ``batch_idle``: a lone event is handled as soon as it
    arrived, not ``batch_idle`` later (the timers here are long enough to tell)."""
    consumer = harness.consumer(batch_idle=1.0, batch_wait=2.0)
    consumer.declare()
    harness.run(consumer.run_until)
    time.sleep(1.6)
    contract_id = harness.emit()
    harness.relay_all()
    wait_until(lambda: contract_id in harness.seen_ids(), 0.8)


def test_a_burst_after_a_quiet_spell_is_still_applied_in_batches(harness: Any) -> None:
    """Its first event may be handled alone; the rest arrive meanwhile and fill batches."""
    consumer = harness.consumer(batch_size=10, batch_idle=1.0, batch_wait=2.0)
    consumer.declare()
    harness.run(consumer.run_until)
    time.sleep(1.6)
    ids = {harness.emit() for _ in range(30)}
    with commits_counted(harness.engine) as commits:
        harness.relay_all()  # one commit: the relay's marks
        wait_until(lambda: harness.seen_ids() == ids, 30)
    assert len(commits) <= 1 + 4


def test_a_failing_event_of_a_batch_is_retried_then_dead_lettered_and_the_rest_applied(harness: Any) -> None:
    ids = [harness.emit() for _ in range(12)]
    harness.always_failing = {ids[4]}
    harness.relay_all()
    consumer = harness.consumer(batch_size=6)
    consumer.declare()
    harness.run(consumer.run_until)
    queue = harness.bus.queue_name(harness.consumer_name, harness.event)
    wait_until(lambda: len(dlq.inspect(harness.bus, queue)) == 1, 30, "the failing event in the DLQ")
    [letter] = dlq.inspect(harness.bus, queue)
    assert "failed 3 times" in letter.reason
    assert json.loads(letter.body)["payload"]["contract_id"] == ids[4]
    assert harness.seen_ids() == set(ids) - {ids[4]}
    assert rows(harness, harness.inbox) == 11

    harness.always_failing = set()
    assert dlq.replay(harness.bus, queue) == 1
    wait_until(lambda: harness.seen_ids() == set(ids), 30, "the replayed event applied")


def test_a_redelivered_batch_from_the_broker_changes_nothing(harness: Any) -> None:
    harness.start()
    ids = {harness.emit() for _ in range(8)}
    wait_until(lambda: harness.seen_ids() == ids, 30)
    with harness.engine.connect() as conn:
        bodies = list(conn.execute(sa.select(harness.outbox.c.body)).scalars())
    duplicates_before = outcome_count(harness, "duplicate")
    publisher = Publisher(harness.bus)
    for body in bodies:  # the same events again, as a relay that crashed before marking them sent would
        publisher.publish(body, routing_key=harness.event)
    publisher.close()
    wait_until(lambda: outcome_count(harness, "duplicate") - duplicates_before == 8, 30, "eight duplicates")
    assert harness.seen_ids() == ids and rows(harness, harness.inbox) == 8


def test_poison_in_a_batch_is_dead_lettered_and_does_not_hold_up_the_rest(harness: Any) -> None:
    ids = [harness.emit() for _ in range(3)]
    harness.relay_all()
    publisher = Publisher(harness.bus)
    publisher.publish(b"{not json", routing_key=harness.event)
    publisher.close()
    ids.append(harness.emit())
    harness.relay_all()
    harness.start()
    wait_until(lambda: harness.seen_ids() == set(ids), 30)
    queue = harness.bus.queue_name(harness.consumer_name, harness.event)
    wait_until(lambda: len(dlq.inspect(harness.bus, queue)) == 1, 30)

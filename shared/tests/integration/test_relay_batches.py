"""The relay's batches against real PostgreSQL and RabbitMQ: claimed with SKIP LOCKED, published
with pipelined confirms, marked sent only once the broker confirmed them.

The messages the relay put on the broker are read straight from a consumer's queue (no
consumer running) where a test counts them; where duplicates are expected (a refused batch
goes out again), the consumer and its inbox show each event applied once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from kombu import Queue, binding

from chassis.events.bus import BatchOutcome, ConfirmingPublisher, OutgoingMessage
from chassis.events.catalogue import load_payload
from chassis.events.relay import OutboxRelay, PublishNotConfirmed
from chassis.testing.samples import contract_registered_payload
from chassis.testing.waiting import wait_until
from chassis.uow import OutboxWakeup


@pytest.fixture
def harness(make_harness: Callable[..., Any], database_url: str, amqp_url: str) -> Any:
    return make_harness(database_url, amqp_url)


def commit_events(h: Any, count: int) -> list[str]:
    """``count`` events in one transaction; their ids in outbox order."""
    ids = []
    with h.uow() as uow:
        for _ in range(count):
            payload = contract_registered_payload()
            ids.append(uow.emit(load_payload(h.event, 1, payload), subject=payload["contract_id"]).id)
        uow.commit()
    return ids


def relay(
    h: Any, *, batch_size: int, wakeup: OutboxWakeup | None = None, poll_interval: float = 0.2
) -> OutboxRelay:
    return OutboxRelay(
        service_name="training-records",
        engine=h.engine,
        outbox=h.outbox,
        bus=h.bus,
        wakeup=wakeup or h.wakeup,
        batch_size=batch_size,
        poll_interval=poll_interval,
    )


def queued_ids(h: Any) -> list[str]:
    """Take every message from the consumer's queue; their message ids in queue order."""
    ids = []
    with h.bus.connection() as conn:
        queue = h.bus.queue(h.consumer_name, h.event)(conn.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            ids.append(message.properties["message_id"])
    return ids


def outbox_rows(h: Any) -> dict[str, tuple[bool, int]]:
    """event id -> (sent, attempts)."""
    c = h.outbox.c
    with h.engine.connect() as conn:
        return {
            row.event_id: (row.sent_at is not None, row.attempts)
            for row in conn.execute(sa.select(c.event_id, c.sent_at, c.attempts))
        }


def unsent(h: Any) -> int:
    return sum(1 for sent, _ in outbox_rows(h).values() if not sent)


def test_a_backlog_goes_out_once_in_outbox_order_in_batches(harness: Any) -> None:
    ids = commit_events(harness, 230)
    relayer = relay(harness, batch_size=50)  # four full batches (claimed ahead) and one of 30
    assert relayer.relay_pending() == 230
    assert relayer.relay_pending() == 0  # marked sent: nothing goes out twice
    relayer.close()
    assert queued_ids(harness) == ids  # each once, in outbox order
    assert set(outbox_rows(harness).values()) == {(True, 0)}


def test_rows_are_marked_sent_only_after_the_broker_confirmed_them(harness: Any) -> None:
    ids = commit_events(harness, 120)
    checked: list[int] = []

    def sent_among(event_ids: Sequence[str]) -> int:
        c = harness.outbox.c
        with harness.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(c.event_id.in_(event_ids), c.sent_at.is_not(None))
                ).scalar_one()
            )

    class Watching(ConfirmingPublisher):
        """Looks at the outbox (from another connection) while a batch waits for the broker."""

        def begin_batch(self, messages: Sequence[OutgoingMessage]) -> None:
            self.in_batch = [m.message_id for m in messages]
            super().begin_batch(messages)

        def finish_batch(self) -> BatchOutcome:
            assert sent_among(self.in_batch) == 0, "marked sent before the broker answered"
            outcome = super().finish_batch()
            assert len(outcome.confirmed) == len(self.in_batch)
            assert sent_among(self.in_batch) == 0, "marked sent before the batch's transaction committed"
            checked.append(len(self.in_batch))
            return outcome

    relayer = relay(harness, batch_size=40)
    relayer.publisher = Watching(harness.bus)
    assert relayer.relay_pending() == 120
    relayer.close()
    assert checked == [40, 40, 40]
    assert sent_among(ids) == 120


def test_marks_commit_without_waiting_for_the_wal_flush_in_their_own_statement(harness: Any) -> None:
    """synchronous_commit is off for the marking transaction only (a lost mark only republishes),
    set by the marking UPDATE itself: no statement of its own before it."""
    commit_events(harness, 3)
    at_commit: list[str] = []
    statements: list[str] = []

    def note_setting(conn: Any) -> None:
        at_commit.append(conn.connection.driver_connection.execute("SHOW synchronous_commit").fetchone()[0])

    def note_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa.event.listen(harness.engine, "commit", note_setting)
    sa.event.listen(harness.engine, "before_cursor_execute", note_statement)
    try:
        relayer = relay(harness, batch_size=10, wakeup=OutboxWakeup())  # no commit announced: no claim ahead
        assert relayer.relay_pending() == 3
        relayer.close()
    finally:
        sa.event.remove(harness.engine, "commit", note_setting)
        sa.event.remove(harness.engine, "before_cursor_execute", note_statement)
    assert at_commit == ["off"]
    assert [s.split()[0].upper() for s in statements] == ["SELECT", "UPDATE"]  # claim, mark
    with harness.engine.connect() as conn:  # the pooled connection's next transaction: the default
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_a_refused_batch_stays_unsent_and_goes_out_later_applied_once(harness: Any) -> None:
    """A queue that refuses every message makes RabbitMQ nack the publish (reject-publish)."""
    ids = commit_events(harness, 20)
    blocker = Queue(
        harness.bus.queue_prefix + "blocker",
        bindings=[binding(harness.bus.exchange, routing_key=harness.event)],
        durable=False,
        queue_arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
    )
    with harness.bus.connection() as conn:
        harness.bus.declare_for_event(conn, harness.event)
        blocker(conn.default_channel).declare()
    relayer = relay(harness, batch_size=8)
    with pytest.raises(PublishNotConfirmed, match="8 refused by the broker"):
        relayer.relay_pending()
    relayer.close()
    rows = outbox_rows(harness)
    assert [rows[i] for i in ids] == [(False, 1)] * 8 + [
        (False, 0)
    ] * 12  # the next batch was never published

    with harness.bus.connection() as conn:
        conn.default_channel.queue_delete(blocker.name)
    harness.start()  # the worker: relay and consumer
    wait_until(lambda: unsent(harness) == 0, 30, "the refused rows sent")
    contract_ids = {contract_id_of(harness, i) for i in ids}
    wait_until(lambda: harness.seen_ids() == contract_ids, 30, "every event handled")
    # The refused publishes had reached the consumer's queue too: delivered twice, applied once.
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar_one() == 20


def contract_id_of(h: Any, event_id: str) -> str:
    with h.engine.connect() as conn:
        body = conn.execute(sa.select(h.outbox.c.body).where(h.outbox.c.event_id == event_id)).scalar_one()
    return str(json.loads(body)["payload"]["contract_id"])


def test_a_channel_failure_leaves_the_batch_unsent_and_the_worker_sends_it_later(harness: Any) -> None:
    """Publishing to an exchange that is gone makes the broker close the channel: no answers."""
    first = commit_events(harness, 5)
    relayer = relay(harness, batch_size=50)
    assert relayer.relay_pending() == 5  # declares the exchange and the consumers' queues
    with harness.bus.connection() as conn:
        conn.default_channel.exchange_delete(harness.bus.exchange.name)
    second = commit_events(harness, 10)
    with pytest.raises(PublishNotConfirmed, match="0 of 10 confirmed; 10 unanswered"):
        relayer.relay_pending()
    rows = outbox_rows(harness)
    assert [rows[i] for i in second] == [(False, 1)] * 10

    stop = threading.Event()
    worker = threading.Thread(target=relayer.run, args=(stop,), daemon=True)
    worker.start()  # after a failure it declares again, then publishes
    try:
        wait_until(lambda: unsent(harness) == 0, 30, "the failed batch sent")
    finally:
        stop.set()
        worker.join(10)
    assert queued_ids(harness) == first + second


def test_two_relays_on_one_outbox_lose_nothing_and_publish_nothing_twice(harness: Any) -> None:
    stops = [threading.Event(), threading.Event()]
    relays = [relay(harness, batch_size=20, wakeup=OutboxWakeup()) for _ in stops]  # each hears NOTIFY
    workers = [
        threading.Thread(target=r.run, args=(s,), daemon=True) for r, s in zip(relays, stops, strict=True)
    ]
    for worker in workers:
        worker.start()
    committed: list[str] = []
    lock = threading.Lock()

    def produce() -> None:
        for index in range(40):
            ids = commit_events(harness, 1 + index % 7)
            with lock:
                committed.extend(ids)

    try:
        producers = [threading.Thread(target=produce) for _ in range(3)]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join(60)
        ids = commit_events(harness, 150)  # a backlog both take batches of
        committed.extend(ids)
        wait_until(lambda: unsent(harness) == 0, 60, "everything sent by the two relays")
    finally:
        for stop in stops:
            stop.set()
        for worker in workers:
            worker.join(10)
    published = queued_ids(harness)
    assert len(committed) == 3 * sum(1 + i % 7 for i in range(40)) + 150
    assert sorted(published) == sorted(committed)  # every event, none twice


def test_one_event_goes_out_on_notify_without_waiting_for_the_poll(harness: Any) -> None:
    """Under low load a batch of one: the relay hears the commit (NOTIFY) and publishes at once."""
    relayer = relay(harness, batch_size=500, wakeup=OutboxWakeup(), poll_interval=60)
    stop = threading.Event()
    worker = threading.Thread(target=relayer.run, args=(stop,), daemon=True)
    worker.start()
    try:
        commit_events(harness, 1)  # declares on the first publish
        wait_until(lambda: unsent(harness) == 0, 10, "the first event sent")
        started = time.monotonic()
        commit_events(harness, 1)
        wait_until(lambda: unsent(harness) == 0, 10, "the second event sent", interval=0.005)
        assert time.monotonic() - started < 5  # far below the 60 s poll
    finally:
        stop.set()
        worker.join(10)
    assert len(queued_ids(harness)) == 2

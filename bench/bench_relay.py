"""Benchmark (b): the outbox relay vs raw pika publishing to the same quorum queues, same batching.

Relay side: chassis ``OutboxRelay`` on PostgreSQL (woken by NOTIFY, as in its own
worker process), publishing ``training.contract.registered`` envelopes in batches of
up to ``BATCH`` rows with pipelined publisher confirms (claim, publish all, wait for
every confirm, mark sent); a real ``EventConsumer`` (inbox row in the same
transaction) handles them.
Reference: pika ``SelectConnection`` with ``confirm_delivery(ack_nack_callback)``
publishing the same bodies, persistent, to the same exchange and routing key (so the
same quorum queues), in the same batches: a batch is published without waiting, then
the IO loop runs until the broker has acked every delivery tag of it (``multiple``
acks included); a pika consumer receives them.

Two measurements per side, rounds alternating relay/raw:
- throughput: N events committed in one transaction, then the time until the
  relay has published them and marked them sent (every batch confirmed); raw: N
  publishes in batches of ``BATCH``, each batch confirmed before the next;
- latency: events paced at a fixed rate (so each is a batch of one); relay: commit →
  handled (the consumer's transaction, inbox row included, committed; also reported:
  commit → the message reached the consumer); raw: publish → delivered to the consumer
  (one hop).
Targets (DESIGN §5): throughput ≥ 0.8 of raw; relay p99 ≤ 2 × raw hop p99.

Run alone: ``.venv/bin/python bench/bench_relay.py`` (``BENCH_QUICK=1`` for a smoke run);
``make bench`` runs it with the edge benchmark.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import sqlalchemy as sa
from kombu.message import Message

import chassis
from chassis.db import make_engine, make_session_factory, normalise_url
from chassis.events.bus import EventBus
from chassis.events.catalogue import load_payload
from chassis.events.consumer import EventConsumer
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.events.relay import DEFAULT_BATCH_SIZE, OutboxRelay
from chassis.events.tables import add_messaging_tables
from chassis.messagebus import MessageBus, Result
from chassis.testing.infrastructure import fresh_database
from chassis.testing.running import BackgroundThreads
from chassis.testing.samples import contract_registered_payload
from chassis.testing.waiting import wait_until
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork

EVENT = "training.contract.registered"
PRODUCER = "training-records"
CONSUMER = "exams"  # a catalogued consumer of EVENT
BATCH = DEFAULT_BATCH_SIZE  # rows per relay pass, and messages per confirmed raw batch
TARGET_THROUGHPUT = 0.8
TARGET_LATENCY = 2.0
RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def latency_summary(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
    }


def pika_parameters(amqp_url: str) -> pika.URLParameters:
    """kombu reads ``amqp://host//`` as vhost "/"; pika wants it percent-encoded."""
    if amqp_url.endswith("//"):
        amqp_url = amqp_url[:-1] + "%2F"
    return pika.URLParameters(amqp_url)


class RawBatchPublisher:
    """pika ``SelectConnection`` in confirm mode, publishing in batches with pipelined confirms.

    ``publish_batch`` hands every message of the batch to the channel without waiting, then
    runs the IO loop (which writes them and reads the broker's answers) until each delivery
    tag of the batch is acked or nacked; ``multiple`` answers settle every tag up to theirs.
    The same protocol as the relay's ``ConfirmingPublisher``, with nothing around it.
    """

    def __init__(self, parameters: pika.URLParameters) -> None:
        self._ready = False
        self._error: BaseException | None = None
        self.channel: Any = None
        self._next_tag = 1
        self._first_tag = 0
        self._answers: list[bool | None] = []
        self._lowest_open = 0
        self._open = 0
        self.connection = pika.SelectConnection(
            parameters,
            on_open_callback=lambda connection: connection.channel(on_open_callback=self._on_channel),
            on_open_error_callback=self._on_failure,
            on_close_callback=self._on_failure,
        )
        self._run()

    def _on_channel(self, channel: Any) -> None:
        self.channel = channel
        channel.confirm_delivery(ack_nack_callback=self._on_answer, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: Any) -> None:
        self._ready = True
        self.connection.ioloop.stop()

    def _on_failure(self, _connection: Any, error: BaseException | str) -> None:
        if self._open or not self._ready:
            self._error = error if isinstance(error, BaseException) else RuntimeError(error)
        self.connection.ioloop.stop()

    def _on_answer(self, frame: Any) -> None:
        method = frame.method
        answer = isinstance(method, pika.spec.Basic.Ack)
        last = method.delivery_tag - self._first_tag
        if last < 0 or last >= len(self._answers):
            return
        answers = self._answers
        for index in range(self._lowest_open, last + 1) if method.multiple else (last,):
            if answers[index] is None:
                answers[index] = answer
                self._open -= 1
        while self._lowest_open < len(answers) and answers[self._lowest_open] is not None:
            self._lowest_open += 1
        if not self._open:
            self.connection.ioloop.stop()

    def _run(self) -> None:
        self.connection.ioloop.start()
        if self._error is not None:
            raise self._error

    def publish_batch(self, exchange: str, routing_key: str, messages: Sequence[tuple[str, bytes]]) -> None:
        self._first_tag = self._next_tag
        self._answers = [None] * len(messages)
        self._lowest_open = 0
        self._open = len(messages)
        for event_id, body in messages:
            self.channel.basic_publish(
                exchange,
                routing_key,
                body,
                pika.BasicProperties(
                    delivery_mode=2,
                    content_type="application/json",
                    content_encoding="utf-8",
                    message_id=event_id,
                ),
            )
            self._next_tag += 1
        self._run()
        if not all(self._answers):
            raise RuntimeError("the broker refused part of a batch")

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()
            self.connection.ioloop.start()


class CountingRelay(OutboxRelay):
    """Notes when its passes have marked ``target`` events sent (no polling of the outbox)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent = 0
        self.target = 0
        self.reached = threading.Event()
        self.reached_at = 0.0

    def relay_pending(self, stop: threading.Event | None = None) -> int:
        sent = super().relay_pending(stop)
        if sent:
            self.sent += sent
            if self.target and self.sent >= self.target and not self.reached.is_set():
                self.reached_at = time.perf_counter()
                self.reached.set()
        return sent

    def expect(self, count: int) -> None:
        self.sent = 0
        self.target = count
        self.reached.clear()


class StampingMessageBus(MessageBus[SqlAlchemyUnitOfWork]):
    """Notes when each event it handled is committed: ``handle_events`` returns after the batch's
    transaction (the handler's effects and the inbox rows) committed, before the ack.

    (A handler's own ``uow.commit()`` is too early a point: in a batch it only flushes.)"""

    def __init__(self, *args: Any, handled_at: dict[str, float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled_at = handled_at

    def handle_events(self, events: Sequence[IncomingEvent[Any]]) -> list[Result]:
        results = super().handle_events(events)
        now = time.perf_counter()
        for event, result in zip(events, results, strict=True):
            if result == "handled":
                self.handled_at[event.envelope.id] = now
        return results


class StampingConsumer(EventConsumer):
    """Notes when each message reaches the consumer (before its parsing, batching, database work)."""

    def __init__(self, *, delivered_at: dict[str, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivered_at = delivered_at

    def on_message(self, body: Any, message: Message) -> None:
        self.delivered_at.setdefault(str(message.properties.get("message_id")), time.perf_counter())
        super().on_message(body, message)


class Harness(BackgroundThreads):
    def __init__(self, database_url: str, amqp_url: str) -> None:
        run_id = uuid.uuid4().hex[:8]
        self.amqp_url = amqp_url
        self.prefix = f"bench-{run_id}."
        self.metadata = sa.MetaData()
        self.outbox, self.inbox = add_messaging_tables(self.metadata)
        self.engine = make_engine(database_url)
        self.metadata.create_all(self.engine)
        self.sessions = make_session_factory(self.engine)
        self.bus = EventBus(amqp_url, f"{self.prefix}events", queue_prefix=self.prefix)
        super().__init__(self.bus, self.engine, join_timeout=15)
        self.queue = self.bus.queue_name(CONSUMER, EVENT)
        self.handled_at: dict[str, float] = {}
        self.delivered_at: dict[str, float] = {}
        with self.bus.connection() as conn:
            self.bus.declare_for_event(conn, EVENT)
        self.all_queues = [self.bus.queue_name(c, EVENT) for c in ("identity", "documents", "exams")]

    # -- relay side --------------------------------------------------------------------
    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self.sessions, producer=PRODUCER, outbox=self.outbox, inbox=self.inbox, wakeup=None
        )

    def start_relay(self) -> CountingRelay:
        # Its own wakeup: like the worker process, the relay hears commits only through NOTIFY.
        relay = CountingRelay(
            service_name=PRODUCER,
            engine=self.engine,
            outbox=self.outbox,
            bus=self.bus,
            wakeup=OutboxWakeup(),
            batch_size=BATCH,
        )
        self.run(relay.run, "relay")
        return relay

    def start_consumer(self) -> None:
        def handle(event: IncomingEvent[Any], uow: SqlAlchemyUnitOfWork) -> None:
            with uow:
                uow.commit()

        # Delivered: the message reached the consumer; handled: its batch's transaction committed.
        messagebus = StampingMessageBus(
            self.uow, consumer_name=CONSUMER, event_handlers={EVENT: handle}, handled_at=self.handled_at
        )
        consumer = StampingConsumer(bus=self.bus, messagebus=messagebus, delivered_at=self.delivered_at)
        self.run(consumer.run_until, "consumer")

    def unsent(self) -> int:
        with self.engine.connect() as conn:
            c = self.outbox.c
            return int(conn.execute(sa.select(sa.func.count()).where(c.sent_at.is_(None))).scalar_one())

    def commit_events(self, count: int) -> float:
        """Commit ``count`` events in one transaction; returns when the commit was done."""
        with self.uow() as uow:
            for payload in (contract_registered_payload() for _ in range(count)):
                uow.emit(load_payload(EVENT, 1, payload), subject=payload["contract_id"])
            uow.commit()
            return time.perf_counter()

    def relay_throughput(self, count: int) -> float:
        """Events per second the relay publishes (confirmed) and marks sent, from one commit of ``count``."""
        relay = self.start_relay()
        try:
            relay.expect(5)
            self.commit_events(5)  # warm: connection, declarations
            if not relay.reached.wait(30):
                raise TimeoutError("the relay did not publish the warm-up events")
            relay.expect(count)
            # The clock starts at the commit: building the events is the producer's cost.
            started = self.commit_events(count)
            if not relay.reached.wait(300):
                raise TimeoutError(f"the relay published {relay.sent} of {count} events")
            if self.unsent():
                raise RuntimeError("events left unsent after the relay counted them all")
            return count / (relay.reached_at - started)
        finally:
            self.stop_threads()
            self.purge()

    def relay_latency(self, count: int, rate: float) -> tuple[list[float], list[float]]:
        """Commit → handled (inbox committed) and commit → delivered to the consumer, per event."""
        self.handled_at.clear()
        self.start_relay()
        self.start_consumer()
        committed: dict[str, float] = {}
        try:
            self.commit_events(5)
            wait_until(lambda: len(self.handled_at) >= 5, 30)
            self.handled_at.clear()
            self.delivered_at.clear()
            for _ in paced(count, rate):
                payload = contract_registered_payload()
                with self.uow() as uow:
                    event_id = uow.emit(load_payload(EVENT, 1, payload), subject=payload["contract_id"]).id
                    uow.commit()
                committed[event_id] = time.perf_counter()
            wait_until(lambda: all(i in self.handled_at for i in committed), 60)
        finally:
            self.stop_threads()
            self.purge()
        return (
            [self.handled_at[i] - committed[i] for i in committed],
            [self.delivered_at[i] - committed[i] for i in committed],
        )

    # -- raw pika side --------------------------------------------------------------------
    def bodies(self, count: int) -> list[tuple[str, bytes]]:
        envelopes = [
            new_envelope(producer=PRODUCER, event_type=EVENT, subject=p["contract_id"], payload=p)
            for p in (contract_registered_payload() for _ in range(count))
        ]
        return [(e.id, e.to_json().encode()) for e in envelopes]

    @contextmanager
    def raw_publisher(self) -> Iterator[RawBatchPublisher]:
        publisher = RawBatchPublisher(pika_parameters(self.amqp_url))
        try:
            yield publisher
        finally:
            publisher.close()

    def publish(self, publisher: RawBatchPublisher, batch: Sequence[tuple[str, bytes]]) -> None:
        publisher.publish_batch(self.bus.exchange.name, EVENT, batch)

    def raw_throughput(self, count: int) -> float:
        bodies = self.bodies(count)
        try:
            with self.raw_publisher() as publisher:
                self.publish(publisher, bodies[:5])  # warm
                started = time.perf_counter()
                for start in range(0, count, BATCH):
                    self.publish(publisher, bodies[start : start + BATCH])  # returns once all are confirmed
                return count / (time.perf_counter() - started)
        finally:
            self.purge()

    def raw_latency(self, count: int, rate: float) -> list[float]:
        received: dict[str, float] = {}
        ready = threading.Event()
        consumer_connection = pika.BlockingConnection(pika_parameters(self.amqp_url))
        consumer_channel = consumer_connection.channel()
        consumer_channel.basic_qos(prefetch_count=20)

        def on_message(channel: Any, method: Any, properties: Any, _body: bytes) -> None:
            received[properties.message_id] = time.perf_counter()
            channel.basic_ack(method.delivery_tag)

        consumer_channel.basic_consume(self.queue, on_message)

        def consume() -> None:
            ready.set()
            consumer_channel.start_consuming()

        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        ready.wait()
        published: dict[str, float] = {}
        bodies = self.bodies(count)
        try:
            with self.raw_publisher() as publisher:
                for index in paced(count, rate):
                    event_id, body = bodies[index]
                    published[event_id] = time.perf_counter()
                    self.publish(publisher, [(event_id, body)])  # a batch of one, as the relay's
            wait_until(lambda: all(i in received for i in published), 60)
        finally:
            consumer_connection.add_callback_threadsafe(consumer_channel.stop_consuming)
            thread.join(timeout=10)
            consumer_connection.close()
            self.purge()
        return [received[i] - published[i] for i in published]

    # -- housekeeping ------------------------------------------------------------------------
    def purge(self) -> None:
        connection = pika.BlockingConnection(pika_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            for queue in self.all_queues:
                channel.queue_purge(queue)
        finally:
            connection.close()


def checkpoint(admin_url: str) -> None:
    engine = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    finally:
        engine.dispose()


def paced(count: int, rate: float) -> Iterator[int]:
    """Yields 0..count-1 at ``rate`` per second (open loop: no catching up in bursts beyond schedule)."""
    started = time.perf_counter()
    for index in range(count):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield index


def run(
    admin_url: str,
    amqp_url: str,
    *,
    rounds: int = 5,
    count: int = 5000,
    latency_count: int = 400,
    rate: float = 50.0,
    settle: float = 1.0,
) -> dict[str, Any]:
    rps: dict[str, list[float]] = {"relay": [], "raw": []}
    latencies: dict[str, list[list[float]]] = {"relay": [], "raw": []}
    delivered: list[float] = []
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(admin_url, "bench_relay"))
        harness = Harness(database_url, amqp_url)
        stack.callback(harness.close)
        # CREATE/DROP DATABASE (ours, the edge benchmark's) leave a checkpoint's worth of dirty
        # buffers; flush them now rather than in the middle of a measurement.
        checkpoint(admin_url)
        time.sleep(settle)
        for index in range(rounds):
            # Alternate who goes first, so drift in the machine's load hits both sides alike.
            # Latency runs before the bursts of the throughput runs, and each phase gets a
            # moment to settle, so no phase measures the one before it.
            sides = ("relay", "raw") if index % 2 == 0 else ("raw", "relay")
            checkpoint(admin_url)  # the previous round's bursts, flushed before measuring
            for side in sides:
                if side == "relay":
                    handled, delivered_samples = harness.relay_latency(latency_count, rate)
                    latencies["relay"].append(handled)
                    delivered.extend(delivered_samples)
                else:
                    latencies["raw"].append(harness.raw_latency(latency_count, rate))
                time.sleep(settle)
            for side in sides:
                measure_rps = harness.relay_throughput if side == "relay" else harness.raw_throughput
                rps[side].append(measure_rps(count))
                time.sleep(settle)
    # Each round's pair ran back to back; the median of their ratios resists the machine's drift.
    throughput_ratio = statistics.median(
        relay / raw for relay, raw in zip(rps["relay"], rps["raw"], strict=True)
    )
    round_p99 = {
        side: [latency_summary(samples)["p99_ms"] for samples in latencies[side]] for side in latencies
    }
    latency_ratio = statistics.median(
        relay / raw for relay, raw in zip(round_p99["relay"], round_p99["raw"], strict=True)
    )
    pooled = {
        side: latency_summary([v for samples in latencies[side] for v in samples]) for side in latencies
    }
    return {
        "name": f"relay: OutboxRelay (PostgreSQL, batches of {BATCH}, pipelined confirms) vs raw pika "
        "(SelectConnection, same batches, pipelined confirms), same quorum queues",
        **{
            side: {
                "rps": round(statistics.median(rps[side]), 1),
                "rounds_rps": [round(r, 1) for r in rps[side]],
                "rounds_p99_ms": round_p99[side],
                **pooled[side],
            }
            for side in ("relay", "raw")
        },
        # The relay's own part: commit → the message reached the consumer (before parsing it).
        "relay_delivered": latency_summary(delivered),
        "throughput_ratio": round(throughput_ratio, 3),
        "p99_latency_ratio": round(latency_ratio, 3),
        "pooled_p99_latency_ratio": round(pooled["relay"]["p99_ms"] / pooled["raw"]["p99_ms"], 3),
        "target": f"throughput >= {TARGET_THROUGHPUT} of raw; relay p99 <= {TARGET_LATENCY} x raw hop p99 "
        "(both as the median of per-round ratios)",
        "passed": throughput_ratio >= TARGET_THROUGHPUT and latency_ratio <= TARGET_LATENCY,
        "context": {
            "batch_size": BATCH,
            "rounds": rounds,
            "events_per_throughput_round": count,
            "latency_events_per_round": latency_count,
            "rate_per_s": rate,
            # Which chassis ran (a comparison may point PYTHONPATH at another checkout's).
            "chassis": str(Path(chassis.__file__).resolve().parent),
        },
    }


Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("benchmark", "measured", "reference", "ratio", "target", "ok")


def relay_rows(relay: dict[str, Any]) -> list[Row]:
    """This benchmark's rows of the ``make bench`` table."""
    return [
        (
            "relay throughput (events/s)",
            f"{relay['relay']['rps']:.0f} relay",
            f"{relay['raw']['rps']:.0f} raw pika",
            f"{relay['throughput_ratio']:.2f}",
            f">= {TARGET_THROUGHPUT:.2f}",
            "yes" if relay["throughput_ratio"] >= TARGET_THROUGHPUT else "NO",
        ),
        (
            "latency p50/p95/p99 (ms)",
            "{p50_ms:.2f}/{p95_ms:.2f}/{p99_ms:.2f} commit->handled".format(**relay["relay"]),
            "{p50_ms:.2f}/{p95_ms:.2f}/{p99_ms:.2f} pika hop".format(**relay["raw"]),
            f"{relay['p99_latency_ratio']:.2f} ({relay['pooled_p99_latency_ratio']:.2f} pooled)",
            f"p99 <= {TARGET_LATENCY:g}x",
            "yes" if relay["p99_latency_ratio"] <= TARGET_LATENCY else "NO",
        ),
        (
            "  commit->delivered (ms)",
            "{p50_ms:.2f}/{p95_ms:.2f}/{p99_ms:.2f} relay part".format(**relay["relay_delivered"]),
            "",
            "",
            "",
            "",
        ),
    ]


def render(rows: Sequence[Row]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    """The relay benchmark alone: prints its rows of the ``make bench`` table and writes
    ``bench/results/relay-<UTC>.json``."""
    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    amqp_url = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    quick = os.environ.get("BENCH_QUICK") == "1"
    print("relay benchmark (OutboxRelay vs raw pika, same batching) …", flush=True)
    result = run(admin_url, amqp_url, **QUICK if quick else {})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"relay-{stamp}.json"
    path.write_text(json.dumps({"timestamp": stamp, "quick": quick, "relay": result}, indent=2) + "\n")
    print()
    print(render([HEADER, *relay_rows(result)]))
    print(f"\nresults: {path}")
    return 0


#: ``BENCH_QUICK=1``: a smoke run, not a measurement.
QUICK: dict[str, Any] = {"rounds": 1, "count": 1000, "latency_count": 100}


if __name__ == "__main__":
    sys.exit(main())

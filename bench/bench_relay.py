"""Benchmark (b): the outbox relay vs raw pika publishing to the same quorum queues.

Relay side: chassis ``OutboxRelay`` on PostgreSQL (woken by NOTIFY, as in its own
worker process), publishing ``training.contract.registered`` envelopes with
per-message publisher confirms; a real ``EventConsumer`` (inbox row in the same
transaction) handles them.
Reference: pika ``BlockingConnection`` with ``confirm_delivery()`` publishing the
same bodies, persistent, to the same exchange and routing key (so the same
quorum queues), and a pika consumer.

Two measurements per side, rounds alternating relay/raw:
- throughput: N events committed in one transaction, then the time until the
  relay has published (confirmed) all of them; raw: N confirmed publishes;
- latency: events paced at a fixed rate; relay: commit → handled (inbox
  committed); raw: publish → delivered to the consumer (one hop).
Targets (DESIGN §5): throughput ≥ 0.7 of raw; relay p99 ≤ 3 × raw hop p99.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pika
import sqlalchemy as sa

from chassis.db import make_engine, make_session_factory, normalise_url
from chassis.events.bus import EventBus
from chassis.events.catalogue import load_payload
from chassis.events.consumer import EventConsumer
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.events.relay import OutboxRelay
from chassis.events.tables import add_messaging_tables
from chassis.messagebus import MessageBus
from chassis.testing.infrastructure import fresh_database
from chassis.testing.running import BackgroundThreads
from chassis.testing.samples import contract_registered_payload
from chassis.testing.waiting import wait_until
from chassis.uow import OutboxWakeup, SqlAlchemyUnitOfWork

EVENT = "training.contract.registered"
PRODUCER = "training-records"
CONSUMER = "exams"  # a catalogued consumer of EVENT
TARGET_THROUGHPUT = 0.7
TARGET_LATENCY = 3.0


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


class BenchUnitOfWork(SqlAlchemyUnitOfWork):
    """Notes when the events it handled are committed (with their inbox rows)."""

    handled_at: dict[str, float]

    def _open(self) -> None:
        super()._open()
        self.handled_ids: list[str] = []

    def commit(self) -> None:
        super().commit()
        now = time.perf_counter()
        for event_id in getattr(self, "handled_ids", []):
            self.handled_at[event_id] = now


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
    def uow(self) -> BenchUnitOfWork:
        uow = BenchUnitOfWork(
            self.sessions, producer=PRODUCER, outbox=self.outbox, inbox=self.inbox, wakeup=None
        )
        uow.handled_at = self.handled_at
        return uow

    def start_relay(self) -> None:
        # Its own wakeup: like the worker process, the relay hears commits only through NOTIFY.
        relay = OutboxRelay(
            service_name=PRODUCER, engine=self.engine, outbox=self.outbox, bus=self.bus, wakeup=OutboxWakeup()
        )
        self.run(relay.run, "relay")

    def start_consumer(self) -> None:
        def handle(event: IncomingEvent[Any], uow: BenchUnitOfWork) -> None:
            # Delivered: the consumer has the message (after its inbox check); handled: committed.
            self.delivered_at.setdefault(event.envelope.id, time.perf_counter())
            with uow:
                uow.handled_ids.append(event.envelope.id)
                uow.commit()

        messagebus = MessageBus(self.uow, consumer_name=CONSUMER, event_handlers={EVENT: handle})
        consumer = EventConsumer(bus=self.bus, messagebus=messagebus)
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
        """Events per second the relay publishes (confirmed), from one commit of ``count`` events."""
        self.start_relay()
        try:
            self.commit_events(5)  # warm: connection, declarations
            wait_until(lambda: self.unsent() == 0, 30)
            # The clock starts at the commit: building the events is the producer's cost.
            started = self.commit_events(count)
            wait_until(lambda: self.unsent() == 0, 300, interval=0.005)
            return count / (time.perf_counter() - started)
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
    def pika_channel(self) -> Iterator[Any]:
        connection = pika.BlockingConnection(pika_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            yield channel
        finally:
            connection.close()

    def publish(self, channel: Any, event_id: str, body: bytes) -> None:
        channel.basic_publish(
            exchange=self.bus.exchange.name,
            routing_key=EVENT,
            body=body,
            properties=pika.BasicProperties(
                delivery_mode=2,
                content_type="application/json",
                content_encoding="utf-8",
                message_id=event_id,
            ),
        )

    def raw_throughput(self, count: int) -> float:
        bodies = self.bodies(count)
        try:
            with self.pika_channel() as channel:
                for event_id, body in bodies[:5]:
                    self.publish(channel, event_id, body)
                started = time.perf_counter()
                for event_id, body in bodies:
                    self.publish(channel, event_id, body)  # returns once the broker confirmed it
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
            with self.pika_channel() as channel:
                for index in paced(count, rate):
                    event_id, body = bodies[index]
                    published[event_id] = time.perf_counter()
                    self.publish(channel, event_id, body)
            wait_until(lambda: all(i in received for i in published), 60)
        finally:
            consumer_connection.add_callback_threadsafe(consumer_channel.stop_consuming)
            thread.join(timeout=10)
            consumer_connection.close()
            self.purge()
        return [received[i] - published[i] for i in published]

    # -- housekeeping ------------------------------------------------------------------------
    def purge(self) -> None:
        with self.pika_channel() as channel:
            for queue in self.all_queues:
                channel.queue_purge(queue)


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
    count: int = 1000,
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
        "name": "relay: OutboxRelay (PostgreSQL, confirms) vs raw pika confirms, same quorum queues",
        **{
            side: {
                "rps": round(statistics.median(rps[side]), 1),
                "rounds_rps": [round(r, 1) for r in rps[side]],
                "rounds_p99_ms": round_p99[side],
                **pooled[side],
            }
            for side in ("relay", "raw")
        },
        # The relay's own part: commit → the consumer has the message (before its database work).
        "relay_delivered": latency_summary(delivered),
        "throughput_ratio": round(throughput_ratio, 3),
        "p99_latency_ratio": round(latency_ratio, 3),
        "pooled_p99_latency_ratio": round(pooled["relay"]["p99_ms"] / pooled["raw"]["p99_ms"], 3),
        "target": f"throughput >= {TARGET_THROUGHPUT} of raw; relay p99 <= {TARGET_LATENCY} x raw hop p99 "
        "(both as the median of per-round ratios)",
        "passed": throughput_ratio >= TARGET_THROUGHPUT and latency_ratio <= TARGET_LATENCY,
        "context": {
            "rounds": rounds,
            "events_per_throughput_round": count,
            "latency_events_per_round": latency_count,
            "rate_per_s": rate,
        },
    }

"""Idempotent event consumers with an inbox, bounded retries and a dead-letter queue.

Messages are taken in batches: up to ``batch_size`` deliveries (``BP_CONSUMER_BATCH``), or
what has arrived when the queue falls quiet for ``batch_idle`` (``BP_CONSUMER_BATCH_IDLE``,
1 ms), and never held longer than ``batch_wait`` after the first (``BP_CONSUMER_BATCH_WAIT``).
A backlog therefore makes full batches (the prefetched deliveries are there at once). A lone
event, one that comes after the queues were quiet for ``batch_idle`` with nothing else arrived
with it, is handled at once instead of after another ``batch_idle`` of waiting (the rest of a
burst that began with it joins the next batches). For each batch:
1. each envelope and payload is validated against the catalogue; a message that
   does not validate is poison and goes straight to ``<queue>.dlq``;
2. the message bus applies the events in one transaction
   (``MessageBus.handle_events``): each handler's effects, and the inbox rows
   (consumer, event id), commit once for the batch, so a redelivered event changes
   nothing twice; a failing event rolls back only its own changes;
3. what was applied is acked (one ``multiple`` ack on RabbitMQ); a failed event is
   retried up to ``max_attempts`` times (republished with an ``x-attempts`` header,
   then acked), after which the message is dead-lettered; an unreachable database
   does not count as an attempt: the consumer backs off and tries again until it
   is back.

A delivery is acked only after its transaction committed, or its retry or
dead-letter copy was confirmed by the broker, so a crash in between can
duplicate a message but never lose it; a crash before the commit leaves the
whole batch unacked, and the broker delivers it again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Consumer
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError

from chassis.errors import is_unavailable
from chassis.events.bus import EventBus, Publisher
from chassis.events.catalogue import UnknownEvent, load_payload
from chassis.events.envelope import EnvelopeSchema
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, NoHandler, Result
from chassis.metrics import EVENTS_HANDLED

log = logging.getLogger(__name__)


# One instance for every message: building a marshmallow schema costs more than loading with it.
_ENVELOPE_SCHEMA = EnvelopeSchema()


class PoisonMessage(Exception):
    """A message that can never be handled (bad envelope, unknown or invalid payload)."""


def parse_message(body: Any) -> IncomingEvent:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise PoisonMessage(f"body is not JSON: {exc}") from exc
    if not isinstance(body, Mapping):
        raise PoisonMessage("body is not a JSON object")
    try:
        envelope = _ENVELOPE_SCHEMA.load(body)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid envelope: {exc.messages}") from exc
    try:
        payload = load_payload(envelope.type, envelope.version, envelope.payload)
    except UnknownEvent as exc:
        raise PoisonMessage(str(exc)) from exc
    except ValidationError as exc:
        raise PoisonMessage(f"invalid payload for {envelope.type}: {exc.messages}") from exc
    return IncomingEvent(envelope, payload)


@dataclass(frozen=True)
class Delivery:
    """A message taken from the broker and the event it carries, waiting for its batch."""

    message: Message
    event: IncomingEvent[Any]

    @property
    def event_type(self) -> str:
        return self.event.envelope.type


class EventConsumer(ConsumerMixin):
    def __init__(
        self,
        *,
        bus: EventBus,
        messagebus: MessageBus[Any],
        max_attempts: int = 5,
        retry_delay: float = 0.5,
        batch_size: int = 100,
        batch_wait: float = 0.05,
        batch_idle: float = 0.001,
        prefetch_count: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.consumer_name = messagebus.consumer_name
        self.bus = bus
        self.messagebus = messagebus
        self.event_types = messagebus.subscribed_event_types
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.batch_size = batch_size
        self.batch_wait = max(batch_wait, 0.0)
        self.batch_idle = max(min(batch_idle, self.batch_wait), 0.0)
        # Room for the next batch to arrive while this one is handled.
        self.prefetch_count = prefetch_count or max(20, 2 * batch_size)
        self.connection: Connection = bus.connection()
        self.publisher = Publisher(bus)
        self._stop: threading.Event | None = None
        self._unavailable_streak = 0
        self._pending: list[Delivery] = []
        self._pending_since = 0.0
        # When the consumer last ran out of deliveries (started, or finished a batch), and whether
        # the batch being taken began after the queues had stayed quiet since then for batch_idle.
        self._idle_since = 0.0
        self._first_after_quiet = False
        self._consuming: Connection | None = None

    # -- kombu ConsumerMixin -------------------------------------------------------
    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Consumer]:
        queues = []
        for event_type in self.event_types:
            self.bus.declare_for_consumer(self.connection, self.consumer_name, event_type)
            queues.append(self.bus.queue(self.consumer_name, event_type))
        consumer = consumer_cls(
            queues=queues,
            callbacks=[self.on_message],
            accept=["json"],
            prefetch_count=self.prefetch_count,
            on_decode_error=self.on_decode_error,
        )
        return [consumer]

    def declare(self) -> None:
        """Declare this consumer's queues now (embedded start-up, tests)."""
        for event_type in self.event_types:
            self.bus.declare_for_consumer(self.connection, self.consumer_name, event_type)

    def run_until(self, stop: threading.Event) -> None:
        self._stop = stop
        self.run()
        self.publisher.close()

    @property
    def should_stop(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        if value and self._stop is not None:
            self._stop.set()

    def consume(
        self,
        limit: int | None = None,
        timeout: float | None = None,
        safety_interval: float = 1,
        **kwargs: Any,
    ) -> Iterator[None]:
        """ConsumerMixin's loop, taking deliveries in batches.

        A batch is handled when it is full (``batch_size``), when no further delivery has
        arrived for ``batch_idle``, or ``batch_wait`` after its first delivery arrived; a lone
        delivery after a quiet spell as soon as nothing else has arrived with it (``_wait``).
        """
        with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
            self._consuming = conn
            self._idle_since = time.monotonic()
            try:
                while not self.should_stop:
                    self.on_iteration()
                    quiet = False
                    if not self._pending or self._due_in() > 0:
                        try:
                            conn.drain_events(timeout=self._wait(safety_interval))
                        except TimeoutError:
                            quiet = True
                            conn.heartbeat_check()
                        except OSError:
                            if not self.should_stop:
                                raise
                    if self._pending and (quiet or self._due_in() <= 0):
                        self.flush()
                    yield
                self.flush()  # what was taken before the stop: handle and ack it now
            finally:
                # Deliveries not settled here come back from the broker once the channel is gone.
                self._pending = []
                self._consuming = None

    def _wait(self, idle: float) -> float:
        """How long to wait for the next delivery: ``idle`` with nothing taken; with a batch open,
        ``batch_idle`` (never beyond its ``batch_wait``), except for a lone delivery that came
        after the queues had been quiet for ``batch_idle``: only what has arrived with it is
        read (no waiting), so it is not held back by a timer. The next deliveries of a burst
        that began with it find the consumer busy and join the batches after."""
        if not self._pending:
            return idle
        if len(self._pending) == 1 and self._first_after_quiet:
            return 0.0
        return max(min(self._due_in(), self.batch_idle), 0.0)

    def _due_in(self) -> float:
        return self._pending_since + self.batch_wait - time.monotonic()

    # -- message handling ------------------------------------------------------------
    def on_decode_error(self, message: Message, exc: Exception) -> None:
        self._dead_letter(message, f"undecodable body: {exc}", event_type=self._event_type_of(message))

    def on_message(self, body: Any, message: Message) -> None:
        """Take one delivery into the batch (poison goes to the dead-letter queue at once)."""
        try:
            event = parse_message(body)
            if event.envelope.type not in self.event_types:
                raise PoisonMessage(f"{self.consumer_name} has no handler for {event.envelope.type}")
        except PoisonMessage as exc:
            self._dead_letter(message, str(exc), event_type=self._event_type_of(message))
            return
        if not self._pending:
            self._pending_since = time.monotonic()
            self._first_after_quiet = self._pending_since - self._idle_since > self.batch_idle
        self._pending.append(Delivery(message, event))
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Handle the deliveries taken so far and settle each (ack, retry or dead-letter).

        The message bus applies a run of batching events in one transaction; an event
        of an ``own_transaction`` handler is a run of its own, acked as soon as it is done.
        """
        deliveries, self._pending = self._pending, []
        try:
            self._apply(deliveries)
        finally:
            self._idle_since = time.monotonic()

    def _apply(self, deliveries: Sequence[Delivery]) -> None:
        start = 0
        while start < len(deliveries):
            end = start + 1
            if self.messagebus.batches(deliveries[start].event_type):
                while end < len(deliveries) and self.messagebus.batches(deliveries[end].event_type):
                    end += 1
            run = deliveries[start:end]
            results: Sequence[Result]
            try:
                results = self.messagebus.handle_events([d.event for d in run])
            except Exception as exc:  # the bus reports failures itself; this is the last resort
                log.exception("handling a batch of %d events failed", len(run))
                results = [exc] * len(run)
            self._settle(run, results)
            if self._consuming is not None:
                self._consuming.heartbeat_check()  # a long run must not cost the connection
            start = end

    def _settle(self, run: Sequence[Delivery], results: Sequence[Result]) -> None:
        done: list[Delivery] = []
        failed: list[tuple[Delivery, Exception]] = []
        for delivery, result in zip(run, results, strict=True):
            if isinstance(result, Exception):
                failed.append((delivery, result))
            else:
                EVENTS_HANDLED.labels(self.consumer_name, delivery.event_type, result).inc()
                done.append(delivery)
        if done:
            self._unavailable_streak = 0
            self._ack(done, multiple=not failed)
        if failed:
            self._retry_or_dead_letter(failed)

    def _ack(self, deliveries: Sequence[Delivery], *, multiple: bool) -> None:
        """Ack what was applied: with one ``multiple`` ack where the broker has it.

        ``multiple`` acks every unsettled delivery of the channel up to the last one;
        it is used only when all of those are in ``deliveries`` (no failed delivery
        of the run is still waiting for its retry copy). The in-memory transport acks
        one delivery per call whatever it is told, so there every delivery is acked.
        """
        if multiple and len(deliveries) > 1 and not self.bus.is_memory:
            last = max(deliveries, key=lambda d: int(d.message.delivery_tag))
            last.message.ack(multiple=True)
            return
        for delivery in deliveries:
            delivery.message.ack()

    def _event_type_of(self, message: Message) -> str:
        """The event type a message was routed by, even when its body is unreadable.

        Events arrive routed by type on the topic exchange; retries and replays
        arrive on the direct exchange, routed by the full queue name.
        """
        routing_key = str(message.delivery_info.get("routing_key", ""))
        own_prefix = self.bus.queue_name(self.consumer_name, "")
        if routing_key.startswith(own_prefix):
            return routing_key[len(own_prefix) :]
        return routing_key

    def _queue_of(self, event_type: str) -> str:
        return self.bus.queue_name(self.consumer_name, event_type)

    def _retry_or_dead_letter(self, failed: Sequence[tuple[Delivery, Exception]]) -> None:
        """Give each failed delivery another attempt, or dead-letter it after ``max_attempts``.

        One back-off for the run (the longest any of its deliveries earned), then a
        copy of each goes back to its queue and the original is acked.
        """
        retries: list[tuple[Delivery, dict[str, Any]]] = []
        wait = 0.0
        unavailable = False
        for delivery, exc in failed:
            event_type = delivery.event_type
            if isinstance(exc, PoisonMessage | NoHandler):
                self._dead_letter(delivery.message, str(exc), event_type=event_type)
                continue
            headers = dict(delivery.message.headers or {})
            attempts = int(headers.get("x-attempts", 0))
            if is_unavailable(exc):
                # The database is down or restarting: not the event's fault, so it does
                # not count as an attempt; wait for the dependency instead of giving up.
                unavailable = True
            else:
                attempts += 1
                if attempts >= self.max_attempts:
                    log.error(
                        "giving up on %s after %d attempts: %s", event_type, attempts, exc, exc_info=exc
                    )
                    self._dead_letter(
                        delivery.message, f"handler failed {attempts} times: {exc!r}", event_type=event_type
                    )
                    continue
                log.warning("handler for %s failed (attempt %d), retrying: %r", event_type, attempts, exc)
                # Back off a little so a briefly missing dependency has time to come back.
                wait = max(wait, min(self.retry_delay * (2 ** (attempts - 1)), 10.0))
            headers["x-attempts"] = attempts
            retries.append((delivery, headers))
        if unavailable:
            self._unavailable_streak += 1
            wait = max(wait, min(self.retry_delay * (2**self._unavailable_streak), 10.0))
            log.warning("dependency unavailable while handling events; retrying in %.1fs", wait)
        if retries and self._stop is not None:
            self._stop.wait(wait)
        for delivery, headers in retries:
            self._retry(delivery, headers)

    def _retry(self, delivery: Delivery, headers: dict[str, Any]) -> None:
        message, event_type = delivery.message, delivery.event_type
        # A copy goes back to the queue and the original is acked only once the broker
        # confirmed the copy; requeueing instead would count against the quorum
        # queue's delivery limit.
        try:
            self.publisher.publish(
                message.body,
                exchange=self.bus.direct,
                routing_key=self._queue_of(event_type),
                message_id=message.properties.get("message_id"),
                headers=headers,
            )
        except Exception:
            log.warning("could not requeue %s; leaving it to the broker", event_type, exc_info=True)
            self.publisher.close()
            message.requeue()
            return
        EVENTS_HANDLED.labels(self.consumer_name, event_type, "retried").inc()
        message.ack()

    def _dead_letter(self, message: Message, reason: str, *, event_type: str) -> None:
        queue = self._queue_of(event_type)
        log.error("dead-lettering message from %s: %s", queue, reason)
        headers = dict(message.headers or {})
        headers["x-dead-letter-reason"] = reason[:500]
        headers["x-original-queue"] = queue
        try:
            self.publisher.publish(
                message.body,
                exchange=self.bus.direct,
                routing_key=queue + ".dlq",
                message_id=message.properties.get("message_id"),
                headers=headers,
            )
        except Exception:
            log.warning("could not publish to the DLQ; rejecting instead", exc_info=True)
            self.publisher.close()
            message.reject(requeue=False)
            return
        EVENTS_HANDLED.labels(self.consumer_name, event_type, "dead_lettered").inc()
        message.ack()

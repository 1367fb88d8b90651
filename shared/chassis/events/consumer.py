"""Idempotent event consumers with an inbox, bounded retries and a dead-letter queue.

For each message:
1. the envelope and payload are validated against the catalogue; a message that
   does not validate is poison and goes straight to ``<queue>.dlq``;
2. the message bus runs the handler; its effects and the inbox row (consumer,
   event id) commit in one transaction, so a redelivered event changes nothing twice;
3. a failing handler is retried up to ``max_attempts`` times (republished with
   an ``x-attempts`` header, then acked), after which the message is dead-lettered;
   an unreachable database does not count as an attempt: the consumer backs off
   and tries again until it is back.

The original is acked only after its retry or dead-letter copy is confirmed by
the broker, so a crash in between can duplicate a message but never lose it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kombu import Connection, Consumer
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError

from chassis.context import causation_id_var, request_id_var
from chassis.errors import is_unavailable
from chassis.events.bus import EventBus, Publisher
from chassis.events.catalogue import UnknownEvent, load_payload
from chassis.events.envelope import EnvelopeSchema
from chassis.events.incoming import IncomingEvent
from chassis.metrics import EVENTS_HANDLED

if TYPE_CHECKING:
    from chassis.messagebus import MessageBus

log = logging.getLogger(__name__)


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
        envelope = EnvelopeSchema().load(body)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid envelope: {exc.messages}") from exc
    try:
        payload = load_payload(envelope.type, envelope.version, envelope.payload)
    except UnknownEvent as exc:
        raise PoisonMessage(str(exc)) from exc
    except ValidationError as exc:
        raise PoisonMessage(f"invalid payload for {envelope.type}: {exc.messages}") from exc
    return IncomingEvent(envelope, payload)


class EventConsumer(ConsumerMixin):
    def __init__(
        self,
        *,
        bus: EventBus,
        messagebus: MessageBus[Any],
        max_attempts: int = 5,
        retry_delay: float = 0.5,
        prefetch_count: int = 20,
    ) -> None:
        self.consumer_name = messagebus.consumer_name
        self.bus = bus
        self.messagebus = messagebus
        self.event_types = messagebus.subscribed_event_types
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.prefetch_count = prefetch_count
        self.connection: Connection = bus.connection()
        self.publisher = Publisher(bus)
        self._stop: threading.Event | None = None
        self._unavailable_streak = 0

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

    # -- message handling ------------------------------------------------------------
    def on_decode_error(self, message: Message, exc: Exception) -> None:
        self._dead_letter(message, f"undecodable body: {exc}", event_type=self._event_type_of(message))

    def on_message(self, body: Any, message: Message) -> None:
        try:
            event = parse_message(body)
        except PoisonMessage as exc:
            self._dead_letter(message, str(exc), event_type=self._event_type_of(message))
            return
        envelope = event.envelope
        request_token = request_id_var.set(envelope.correlation_id)
        causation_token = causation_id_var.set(envelope.id)
        try:
            outcome = self._handle(event)
            self._unavailable_streak = 0
            EVENTS_HANDLED.labels(self.consumer_name, envelope.type, outcome).inc()
            message.ack()
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
            self._retry_or_dead_letter(message, envelope.type, exc)
        finally:
            causation_id_var.reset(causation_token)
            request_id_var.reset(request_token)

    def _handle(self, event: IncomingEvent[Any]) -> str:
        if event.envelope.type not in self.event_types:
            raise PoisonMessage(f"{self.consumer_name} has no handler for {event.envelope.type}")
        return self.messagebus.handle_event(event)

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

    def _queue_of(self, message: Message, event_type: str) -> str:
        return self.bus.queue_name(self.consumer_name, event_type)

    def _retry_or_dead_letter(self, message: Message, event_type: str, exc: Exception) -> None:
        if isinstance(exc, PoisonMessage):
            self._dead_letter(message, str(exc), event_type=event_type)
            return
        headers = dict(message.headers or {})
        attempts = int(headers.get("x-attempts", 0))
        if is_unavailable(exc):
            # The database is down or restarting: not the event's fault, so it does
            # not count as an attempt; wait for the dependency instead of giving up.
            self._unavailable_streak += 1
            wait = min(self.retry_delay * (2**self._unavailable_streak), 10.0)
            log.warning("dependency unavailable while handling %s; retrying in %.1fs", event_type, wait)
        else:
            attempts += 1
            if attempts >= self.max_attempts:
                log.error("giving up on %s after %d attempts: %s", event_type, attempts, exc, exc_info=exc)
                self._dead_letter(message, f"handler failed {attempts} times: {exc!r}", event_type=event_type)
                return
            log.warning("handler for %s failed (attempt %d), retrying: %r", event_type, attempts, exc)
            # Back off a little so a briefly missing dependency has time to come back.
            wait = min(self.retry_delay * (2 ** (attempts - 1)), 10.0)
        if self._stop is not None:
            self._stop.wait(wait)
        headers["x-attempts"] = attempts
        # A copy goes back to the queue and the original is acked only once the broker
        # confirmed the copy; requeueing instead would count against the quorum
        # queue's delivery limit.
        try:
            self.publisher.publish(
                message.body,
                exchange=self.bus.direct,
                routing_key=self._queue_of(message, event_type),
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
        queue = self._queue_of(message, event_type)
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

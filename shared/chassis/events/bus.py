"""The message bus topology on kombu: one durable topic exchange routed by event type.

The same code runs on RabbitMQ (``amqp://``, distributed mode) and on kombu's
in-memory transport (``memory://``, embedded mode).

Topology, after nameko:
- ``<exchange>`` (topic): every event, routing key = event type;
- ``<exchange>.direct`` (direct): addresses one queue by its name, used for
  retries, dead-lettering (``<queue>.dlq``) and replaying from the DLQ;
- ``<consumer>.<event type>``: one quorum queue per consumer and event.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kombu import Connection, Exchange, Producer, Queue, binding

from chassis.events.catalogue import CATALOGUE

log = logging.getLogger(__name__)


class EventBus:
    def __init__(
        self,
        url: str,
        exchange_name: str = "bildungsportal.events",
        *,
        max_attempts: int = 5,
        queue_prefix: str = "",
    ):
        self.url = url
        # Tests and benchmarks share one broker; a prefix keeps their queues apart.
        self.queue_prefix = queue_prefix
        self.exchange = Exchange(exchange_name, type="topic", durable=True)
        self.direct = Exchange(exchange_name + ".direct", type="direct", durable=True)
        self.max_attempts = max_attempts
        self._declared: set[str] = set()
        self._lock = threading.Lock()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connection(self) -> Connection:
        if self.is_memory:
            # The in-memory transport polls; a short interval keeps embedded flows snappy.
            # Naming the (meaningless) host keeps kombu from warning on every connection.
            url = "memory://localhost/" if self.url.rstrip("/") == "memory:" else self.url
            return Connection(url, transport_options={"polling_interval": 0.02})
        return Connection(
            self.url,
            heartbeat=30,
            # Publisher confirms: basic_publish returns only once the broker has the message.
            transport_options={"confirm_publish": True},
        )

    # -- topology ----------------------------------------------------------------
    def queue_name(self, consumer: str, event_type: str) -> str:
        return f"{self.queue_prefix}{consumer}.{event_type}"

    def queue(self, consumer: str, event_type: str) -> Queue:
        name = self.queue_name(consumer, event_type)
        arguments: dict[str, Any] = {}
        if not self.is_memory:
            arguments = {
                "x-queue-type": "quorum",
                # Our consumer dead-letters explicitly after max_attempts; the broker's
                # delivery limit is the safety net for a consumer that keeps crashing.
                "x-delivery-limit": self.max_attempts * 2,
                "x-dead-letter-exchange": self.direct.name,
                "x-dead-letter-routing-key": name + ".dlq",
            }
        return Queue(
            name,
            bindings=[
                binding(self.exchange, routing_key=event_type),
                binding(self.direct, routing_key=name),
            ],
            durable=True,
            queue_arguments=arguments,
        )

    def dead_letter_queue(self, queue_name: str) -> Queue:
        arguments = {} if self.is_memory else {"x-queue-type": "quorum"}
        return Queue(
            queue_name + ".dlq",
            exchange=self.direct,
            routing_key=queue_name + ".dlq",
            durable=True,
            queue_arguments=arguments,
        )

    def declare_for_consumer(self, connection: Connection, consumer: str, event_type: str) -> None:
        key = f"{consumer}|{event_type}"
        with self._lock:
            if key in self._declared:
                return
            channel = connection.default_channel
            self.exchange(channel).declare()
            self.direct(channel).declare()
            queue = self.queue(consumer, event_type)
            queue(channel).declare()
            self.dead_letter_queue(queue.name)(channel).declare()
            self._declared.add(key)

    def declare_for_event(self, connection: Connection, event_type: str) -> None:
        """Declare every catalogued consumer's queue, so no event is lost before its consumer first starts."""
        for contract in CATALOGUE:
            if contract.type == event_type:
                for consumer in contract.consumers:
                    self.declare_for_consumer(connection, consumer, event_type)

    def declare_all(self, connection: Connection) -> None:
        for contract in CATALOGUE:
            self.declare_for_event(connection, contract.type)

    def delete_topology(self, connection: Connection) -> None:
        """Remove what this bus declared (test and benchmark clean-up)."""
        channel = connection.default_channel
        for key in list(self._declared):
            consumer, event_type = key.split("|", 1)
            name = self.queue_name(consumer, event_type)
            for queue_name in (name, name + ".dlq"):
                try:
                    channel.queue_delete(queue_name)
                except Exception:  # noqa: BLE001 - already gone is fine
                    channel = connection.channel()
        for exchange in (self.exchange, self.direct):
            try:
                channel.exchange_delete(exchange.name)
            except Exception:  # noqa: BLE001 - already gone is fine
                channel = connection.channel()
        self._declared.clear()


class Publisher:
    """Publishes pre-serialised envelopes, persistent and confirmed."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = self.bus.connection()
            self._connection.ensure_connection(max_retries=3)
            self._producer = Producer(self._connection.channel())
        return self._producer

    def publish(
        self,
        body: str | bytes,
        *,
        routing_key: str,
        exchange: Exchange | None = None,
        message_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        producer = self._ensure()
        producer.publish(
            body,
            exchange=exchange if exchange is not None else self.bus.exchange,
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=message_id,
            headers={k: v for k, v in (headers or {}).items() if v is not None},
            retry=False,
        )

    def declare_for_event(self, event_type: str) -> None:
        self._ensure()
        assert self._connection is not None
        self.bus.declare_for_event(self._connection, event_type)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("publisher connection close failed", exc_info=True)
        self._connection = None
        self._producer = None

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
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import amqp
import amqp.serialization
import amqp.spec
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
        self._declared: set[str] = set()  # declared on this broker since the last forget_declarations()
        self._topology: set[str] = set()  # everything ever declared, for delete_topology()
        self._lock = threading.Lock()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connection(self, *, confirm_each_publish: bool = True) -> Connection:
        """A connection to the broker. By default every ``basic_publish`` on its channels waits for
        the broker's confirm; ``confirm_each_publish=False`` leaves confirms to the caller
        (``ConfirmingPublisher`` pipelines them over a whole batch)."""
        if self.is_memory:
            # The in-memory transport polls; a short interval keeps embedded flows snappy.
            # Naming the (meaningless) host keeps kombu from warning on every connection.
            url = "memory://localhost/" if self.url.rstrip("/") == "memory:" else self.url
            return Connection(url, transport_options={"polling_interval": 0.02})
        return Connection(
            self.url,
            heartbeat=30,
            # Publisher confirms: basic_publish returns only once the broker has the message.
            transport_options={"confirm_publish": confirm_each_publish},
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
            self._topology.add(key)

    def declare_for_event(self, connection: Connection, event_type: str) -> None:
        """Declare every catalogued consumer's queue, so no event is lost before its consumer first starts."""
        for contract in CATALOGUE:
            if contract.type == event_type:
                for consumer in contract.consumers:
                    self.declare_for_consumer(connection, consumer, event_type)

    def forget_declarations(self) -> None:
        """Declare again on next use: after a channel error such as a missing exchange
        (a broker reset without its definitions), the cache would otherwise skip it."""
        with self._lock:
            self._declared.clear()

    def declare_all(self, connection: Connection) -> None:
        for contract in CATALOGUE:
            self.declare_for_event(connection, contract.type)

    def delete_topology(self, connection: Connection) -> None:
        """Remove what this bus declared (test and benchmark clean-up)."""
        channel = connection.default_channel
        for key in list(self._topology):
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
        self._topology.clear()


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


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One pre-serialised envelope for the topic exchange (routing key = event type)."""

    body: bytes
    routing_key: str
    message_id: str
    headers: Mapping[str, Any]


@dataclass
class BatchOutcome:
    """The broker's answer to one batch, by index into the batch.

    ``confirmed``: acked, so persisted by the broker. ``nacked``: refused by the broker.
    ``failure``: why the wait ended before every message had an answer (connection or channel
    lost, timeout); the messages in neither list may or may not have reached the broker.
    """

    confirmed: list[int] = field(default_factory=list)
    nacked: list[int] = field(default_factory=list)
    failure: BaseException | None = None

    @property
    def complete(self) -> bool:
        return self.failure is None and not self.nacked


#: How many bytes of frames the publisher collects before writing them to the socket.
FLUSH_BYTES = 64 * 1024


class _FrameBuffer:
    """Stands in for the socket of py-amqp's frame writer and keeps what it writes."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        chunk = bytes(data)  # the writer hands over a view of a buffer it reuses for the next frame
        self._chunks.append(chunk)
        self.size += len(chunk)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks = []
        self.size = 0
        return data


# The content header properties every relayed message carries, in AMQP 0-9-1's encoding
# (basic class property flags, then the set properties in their order): content-type,
# content-encoding, headers (a table), delivery-mode, message-id. Encoding them directly costs
# a third of py-amqp's generic serializer, which matters at thousands of messages a second;
# tests compare the bytes with py-amqp's.
_PROPERTY_FLAGS = (1 << 15) | (1 << 14) | (1 << 13) | (1 << 12) | (1 << 7)
_CONTENT_TYPE = b"application/json"
_CONTENT_ENCODING = b"utf-8"
_PROPERTIES_PREFIX = (
    struct.pack(">HB", _PROPERTY_FLAGS, len(_CONTENT_TYPE))
    + _CONTENT_TYPE
    + struct.pack(">B", len(_CONTENT_ENCODING))
    + _CONTENT_ENCODING
)
_PERSISTENT = b"\x02"


def encode_properties(message_id: str, headers: Mapping[str, Any]) -> bytes | None:
    """The encoded properties of a persistent JSON message with these headers (``None``
    values left out) and this id; ``None`` where a header is not a string or a name is too
    long for a short string (py-amqp's serializer handles those)."""
    items = []
    for name, value in headers.items():
        if value is None:
            continue
        if not isinstance(value, str):
            return None
        key = name.encode()
        data = value.encode("utf-8", "surrogatepass")
        if len(key) > 255:
            return None
        items.append(struct.pack(">B", len(key)) + key + struct.pack(">cI", b"S", len(data)) + data)
    table = b"".join(items)
    identifier = message_id.encode()
    if len(identifier) > 255:
        return None
    return b"".join(
        (
            _PROPERTIES_PREFIX,
            struct.pack(">I", len(table)),
            table,
            _PERSISTENT,
            struct.pack(">B", len(identifier)),
            identifier,
        )
    )


class _EncodedContent:
    """A message as py-amqp's frame writer takes it (``body``, ``properties`` and
    ``_serialize_properties()``), its properties encoded up front."""

    __slots__ = ("_encoded", "body", "properties")

    def __init__(self, body: bytes, encoded: bytes) -> None:
        self.body = body
        self.properties: dict[str, Any] = {}
        self._encoded = encoded

    def _serialize_properties(self) -> bytes:
        return self._encoded


class BatchAnswers:
    """The broker's answers to one batch of publishes on a channel in confirm mode.

    The broker numbers the publishes of a channel 1, 2, 3, …; the batch holds the delivery
    tags ``first_tag`` … ``first_tag + count - 1``. An answer settles one tag, or with
    ``multiple`` every tag up to and including it that is not settled yet. Answers for tags
    outside the batch are ignored, and the first answer for a tag is the one that counts.
    """

    def __init__(self, first_tag: int, count: int) -> None:
        self.first_tag = first_tag
        self._answers: list[bool | None] = [None] * count
        self._lowest_open = 0  # every index below it is settled
        self.open = count

    def settle(self, delivery_tag: int, *, multiple: bool, ack: bool) -> None:
        last = delivery_tag - self.first_tag
        if last < 0 or last >= len(self._answers):
            return
        answers = self._answers
        for index in range(self._lowest_open, last + 1) if multiple else (last,):
            if answers[index] is None:
                answers[index] = ack
                self.open -= 1
        while self._lowest_open < len(answers) and answers[self._lowest_open] is not None:
            self._lowest_open += 1

    def __len__(self) -> int:
        return len(self._answers)

    def outcome(self, failure: BaseException | None = None) -> BatchOutcome:
        return BatchOutcome(
            confirmed=[i for i, answer in enumerate(self._answers) if answer is True],
            nacked=[i for i, answer in enumerate(self._answers) if answer is False],
            failure=failure,
        )


class ConfirmTimeout(Exception):
    """The broker did not answer every publish of a batch in time."""


class ConfirmingPublisher:
    """Publishes batches of envelopes, persistent, with pipelined publisher confirms.

    The channel is in confirm mode (RabbitMQ's ``confirm.select``): the broker numbers the
    publishes on it 1, 2, 3, … and answers each with ``basic.ack`` (persisted) or
    ``basic.nack`` (refused), often one answer for many (``multiple``: every tag up to this
    one). ``begin_batch`` writes a whole batch without waiting between messages, a chunk of
    frames per socket write, reading the answers that have arrived after each chunk;
    ``finish_batch`` reads answers until every message of the batch has one. That is one
    round trip per batch instead of one per message (kombu's ``confirm_publish`` waits after
    every message), and the caller may do other work (its database's) in between.
    One batch at a time: the next begins only after the previous one is finished.

    The AMQP side is py-amqp (kombu's ``pyamqp`` transport) used directly: its channel's
    ``confirm.select`` and ``basic_ack``/``basic_nack`` events, its frame writer. After a
    failure the connection is dropped, so an answer meant for an abandoned batch is never
    counted for a later one. On kombu's in-memory transport (embedded mode) a publish is
    complete when it returns: every message counts as confirmed.
    """

    def __init__(self, bus: EventBus, *, confirm_timeout: float = 30.0) -> None:
        self.bus = bus
        self.confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel: Any = None
        self._producer: Producer | None = None  # the in-memory transport's path
        self._next_tag = 1
        # The batch in flight (None when there is none) and why writing it failed, if it did.
        self._batch: BatchAnswers | None = None
        self._failure: BaseException | None = None

    # -- connection ---------------------------------------------------------------------
    def _ensure(self) -> Any:
        if self._connection is None:
            connection = self.bus.connection(confirm_each_publish=False)
            try:
                connection.ensure_connection(max_retries=3)
                channel = connection.channel()
                if self.bus.is_memory:
                    self._producer = Producer(channel)
                else:
                    channel.confirm_select()
                    channel.events["basic_ack"].add(self._on_ack)
                    channel.events["basic_nack"].add(self._on_nack)
            except BaseException:
                connection.release()
                raise
            self._connection = connection
            self._channel = channel
            self._next_tag = 1
        return self._channel

    def declare_for_event(self, event_type: str) -> None:
        self._ensure()
        assert self._connection is not None
        self.bus.declare_for_event(self._connection, event_type)

    def keepalive(self) -> None:
        """While idle: read what the broker sent (its heartbeats) and send ours when due, so an idle
        connection stays open and a dead one is replaced now rather than noticed at the next batch."""
        if self._connection is None or self.bus.is_memory:
            return
        try:
            try:
                while True:
                    self._connection.drain_events(timeout=0)
            except TimeoutError:
                pass
            self._connection.heartbeat_check()
        except Exception:  # a broken connection is replaced at the next batch
            log.info("publisher connection lost while idle; reconnecting at the next batch", exc_info=True)
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                log.debug("publisher connection close failed", exc_info=True)
        self._connection = None
        self._channel = None
        self._producer = None
        self._batch = None

    # -- publishing ---------------------------------------------------------------------
    @property
    def in_flight(self) -> bool:
        """A batch was begun and not yet finished."""
        return self._batch is not None

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> BatchOutcome:
        """Publish every message and wait until the broker has answered each."""
        self.begin_batch(messages)
        return self.finish_batch()

    def begin_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        """Write every message of a batch, without waiting for the broker's answers.

        Connecting failures raise (nothing was published); a failure once writing has begun
        is reported by ``finish_batch``, with what the broker confirmed before it."""
        if self._batch is not None:
            raise RuntimeError("the previous batch is not finished")
        channel = self._ensure()
        batch = self._batch = BatchAnswers(self._next_tag, len(messages))
        self._failure = None
        try:
            if self.bus.is_memory:
                self._publish_in_memory(batch, messages)
            else:
                self._write_all(channel, batch, messages)
        except Exception as exc:  # noqa: BLE001 - reported by finish_batch
            self._failure = exc

    def finish_batch(self) -> BatchOutcome:
        """Wait until the broker has answered every message of the batch begun last (or the
        confirm timeout passes, or the connection fails); what it said, by index."""
        batch = self._batch
        if batch is None:
            raise RuntimeError("no batch was begun")
        failure = self._failure
        if failure is None:
            try:
                self._wait_for_answers(batch)
            except Exception as exc:  # noqa: BLE001 - reported to the caller with what was confirmed
                failure = exc
        outcome = batch.outcome(failure)
        if failure is not None:
            self.close()
        self._batch = None
        self._failure = None
        return outcome

    def _write_all(self, channel: Any, batch: BatchAnswers, messages: Sequence[OutgoingMessage]) -> None:
        """Frame every ``basic.publish`` with py-amqp's own frame writer, into a buffer that goes
        to the socket every ``FLUSH_BYTES``: a few writes per batch instead of one per message,
        while the broker already works on the first chunks. After each write the answers that
        have arrived are read without blocking (as py-amqp's ``basic_publish`` does)."""
        connection = channel.connection
        frames = _FrameBuffer()
        write_frame = connection.frame_writer_cls(connection, frames)
        exchange = self.bus.exchange.name
        arguments: dict[str, bytes] = {}  # basic.publish's arguments: the same for every event of a type
        for message in messages:
            args = arguments.get(message.routing_key)
            if args is None:
                args = arguments[message.routing_key] = amqp.serialization.dumps(
                    "Bssbb", (0, exchange, message.routing_key, False, False)
                )
            encoded = encode_properties(message.message_id, message.headers)
            content: Any = (
                _EncodedContent(message.body, encoded)
                if encoded is not None
                else amqp.Message(
                    message.body,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=message.message_id,
                    application_headers={k: v for k, v in message.headers.items() if v is not None},
                )
            )
            write_frame(1, channel.channel_id, amqp.spec.Basic.Publish, args, content)
            self._next_tag += 1
            if frames.size >= FLUSH_BYTES:
                self._flush(connection, frames, batch)
        self._flush(connection, frames, batch)

    def _flush(self, connection: Any, frames: _FrameBuffer, batch: BatchAnswers) -> None:
        data = frames.take()
        if data:
            with connection.transport.having_timeout(self.confirm_timeout):
                connection.transport.write(data)
        try:
            while batch.open:
                connection.drain_events(timeout=0)
        except TimeoutError:
            pass

    def _wait_for_answers(self, batch: BatchAnswers) -> None:
        deadline = time.monotonic() + self.confirm_timeout
        while batch.open:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout(
                    f"{batch.open} of {len(batch)} publishes unanswered after {self.confirm_timeout}s"
                )
            if self._connection is None:
                raise ConnectionError("the publisher's connection is closed")
            try:
                self._connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue

    # py-amqp calls these while reading frames (channel.events)
    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if self._batch is not None:
            self._batch.settle(delivery_tag, multiple=multiple, ack=True)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        if self._batch is not None:
            self._batch.settle(delivery_tag, multiple=multiple, ack=False)

    def _publish_in_memory(self, batch: BatchAnswers, messages: Sequence[OutgoingMessage]) -> None:
        assert self._producer is not None
        for index, message in enumerate(messages):
            self._producer.publish(
                message.body,
                exchange=self.bus.exchange,
                routing_key=message.routing_key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=message.message_id,
                headers={k: v for k, v in message.headers.items() if v is not None},
                retry=False,
            )
            batch.settle(batch.first_tag + index, multiple=False, ack=True)

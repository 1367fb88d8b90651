"""Inspect and replay dead-lettered messages (DESIGN §5: poison messages can be replayed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chassis.events.bus import EventBus, Publisher


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str | None
    reason: str
    body: str


def _letter(queue_name: str, message: Any) -> DeadLetter:
    body = message.body.decode() if isinstance(message.body, bytes) else str(message.body)
    headers = message.headers or {}
    return DeadLetter(
        queue=queue_name,
        message_id=message.properties.get("message_id"),
        reason=str(headers.get("x-dead-letter-reason", "")),
        body=body,
    )


def inspect(bus: EventBus, queue_name: str, limit: int = 100) -> list[DeadLetter]:
    """Look at dead letters without removing them (they are requeued after reading)."""
    held = []
    with bus.connection() as conn:
        queue = bus.dead_letter_queue(queue_name)(conn.default_channel)
        queue.declare()
        for _ in range(limit):
            message = queue.get(no_ack=False)
            if message is None:
                break
            held.append(message)
        letters = [_letter(queue_name, m) for m in held]
        for message in held:
            message.requeue()
    return letters


def replay(bus: EventBus, queue_name: str, limit: int = 100) -> int:
    """Move dead letters back to their queue with a fresh attempt count."""
    publisher = Publisher(bus)
    count = 0
    try:
        with bus.connection() as conn:
            queue = bus.dead_letter_queue(queue_name)(conn.default_channel)
            queue.declare()
            # Only what is there now: a message that fails again comes back to
            # the DLQ and must not be replayed in a loop.
            waiting = queue.queue_declare(passive=True).message_count
            for _ in range(min(limit, waiting)):
                message = queue.get(no_ack=False)
                if message is None:
                    break
                letter = _letter(queue_name, message)
                publisher.publish(
                    letter.body,
                    exchange=bus.direct,
                    routing_key=queue_name,
                    message_id=letter.message_id,
                    headers={"x-replayed": True},
                )
                message.ack()
                count += 1
        return count
    finally:
        publisher.close()


def describe(letter: DeadLetter) -> str:
    try:
        event_type = json.loads(letter.body).get("type", "?")
    except ValueError:
        event_type = "?"
    return f"{letter.message_id or '-'}  {event_type}  {letter.reason}"

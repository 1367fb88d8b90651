"""Putting events on the bus in a test, as a producer's relay would."""

from __future__ import annotations

from chassis.events.bus import EventBus, Publisher
from chassis.events.envelope import Envelope


def publish_envelopes(bus: EventBus, *envelopes: Envelope, times: int = 1) -> None:
    """Publish each envelope (routing key: its type, message id: its id); ``times=2`` is a redelivery."""
    publisher = Publisher(bus)
    try:
        for envelope in envelopes:
            body = envelope.to_json()
            for _ in range(times):
                publisher.publish(body, routing_key=envelope.type, message_id=envelope.id)
    finally:
        publisher.close()

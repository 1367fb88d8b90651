"""Integration events: envelope, contracts, outbox, relay and idempotent consumers."""

from chassis.events.envelope import Envelope, EnvelopeSchema, new_envelope

__all__ = ["Envelope", "EnvelopeSchema", "new_envelope"]

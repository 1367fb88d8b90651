"""An event as a consumer receives it: the envelope and its typed payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from chassis.events.envelope import Envelope
from chassis.messages import IntegrationEvent

P = TypeVar("P", bound=IntegrationEvent)


@dataclass(frozen=True)
class IncomingEvent(Generic[P]):
    envelope: Envelope
    payload: P  # loaded and typed by the event's contract (chassis.events.catalogue)

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def occurred_at(self) -> datetime:
        """When the producer recorded the event (timezone-aware): what a consumer compares to
        tell a newer fact from an older one, as arrival order does not say (docs/events.md)."""
        return datetime.fromisoformat(self.envelope.occurred_at)

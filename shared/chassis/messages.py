"""The messages a service handles: commands, queries and integration events.

Pure Python (no Flask, no SQLAlchemy): domain and service-layer code import it.

- A **command** asks a service to change something; exactly one handler takes it.
- A **query** asks for data; exactly one handler answers it, and changes nothing.
- An **integration event** payload is a typed, versioned fact another service
  published; its schema and consumers are in ``chassis.events.catalogue``.

All three are frozen dataclasses and go through one dispatch path, the
``chassis.messagebus.MessageBus``, with one handler signature:
``def handle(message: M, uow: U) -> R`` (dependencies bound by the bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Command:
    """Base of every command: a frozen dataclass naming an intent (``RegisterContract``)."""


@dataclass(frozen=True)
class Query:
    """Base of every query: a frozen dataclass naming a question (``ListContracts``)."""


@dataclass(frozen=True)
class IntegrationEvent:
    """Base of every typed event payload; ``TYPE`` and ``VERSION`` name it in the catalogue."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


Message = Command | Query

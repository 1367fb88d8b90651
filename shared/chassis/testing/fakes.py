"""Fakes for every service's unit tests: one fake unit of work and a generic fake repository.

A service's unit tests build ``FakeUnitOfWork(contracts=FakeRepository(key="id"), ...)``
with the repositories its use cases need; finders a service adds are added by
subclassing ``FakeRepository`` in that service's ``tests/unit/conftest.py``.
The fake behaves like the real one where tests can tell: changes count only
when committed, events are recorded in order with their subject, the inbox row
of an event joins the commit, and leaving the block without committing rolls
back what the fake can roll back (recorded events).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, Self, TypeVar

from chassis.events.catalogue import outgoing_envelope
from chassis.events.envelope import Envelope
from chassis.messages import IntegrationEvent
from chassis.pagination import KeyValue, Page, PageRequest, SortKey, paginate_in_memory

T = TypeVar("T")


class FakeRepository(Generic[T]):
    """An in-memory repository keyed by an attribute (``key="id"``) or a function."""

    def __init__(self, key: str | Callable[[T], Hashable], items: Iterable[T] = ()) -> None:
        self._key: Callable[[T], Hashable] = (
            (lambda item: getattr(item, key)) if isinstance(key, str) else key
        )
        self.items: dict[Hashable, T] = {}
        for item in items:
            self.add(item)

    def add(self, item: T) -> None:
        self.items[self._key(item)] = item

    def get(self, key: Hashable) -> T | None:
        return self.items.get(key)

    def delete(self, item: T) -> None:
        self.items.pop(self._key(item), None)

    def all(self) -> list[T]:
        return list(self.items.values())

    def find(self, predicate: Callable[[T], bool]) -> list[T]:
        return [item for item in self.items.values() if predicate(item)]

    def first(self, predicate: Callable[[T], bool]) -> T | None:
        return next((item for item in self.items.values() if predicate(item)), None)

    def page(
        self,
        predicate: Callable[[T], bool],
        order: Sequence[SortKey],
        request: PageRequest,
        value: Callable[[T, str], KeyValue] = getattr,
    ) -> Page[T]:
        return paginate_in_memory(self.find(predicate), order, request, value)

    def __len__(self) -> int:
        return len(self.items)


class FakeUnitOfWork:
    """Stands in for a service's SqlAlchemyUnitOfWork; repositories are passed by name."""

    producer = "fake"

    def __init__(self, **repositories: Any) -> None:
        for name, repository in repositories.items():
            setattr(self, name, repository)
        self.commits = 0
        self.events: list[Envelope] = []  # committed events, in order
        self._pending: list[Envelope] = []
        self.handled: set[tuple[str, str]] = set()  # committed inbox rows (consumer, event id)
        self._inbox_entry: tuple[str, str] | None = None
        self.inbox_written = False
        self.entered = 0

    def __enter__(self) -> Self:
        self.entered += 1
        self._pending = []
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.rollback()

    @property
    def committed(self) -> bool:
        return self.commits > 0

    def emit(self, event: IntegrationEvent, *, subject: str) -> Envelope:
        envelope = outgoing_envelope(event, producer=self.producer, subject=subject)
        self._pending.append(envelope)
        return envelope

    def emitted(self) -> list[Envelope]:
        return list(self._pending)

    def events_of(self, event_type: str) -> list[Envelope]:
        return [e for e in self.events if e.type == event_type]

    def commit(self) -> None:
        self.commits += 1
        self.events.extend(self._pending)
        self._pending = []
        if self._inbox_entry is not None and not self.inbox_written:
            self.handled.add(self._inbox_entry)
            self.inbox_written = True

    def rollback(self) -> None:
        self._pending = []

    def join_inbox(self, consumer: str, envelope: Envelope) -> None:
        self._inbox_entry = (consumer, envelope.id)
        self.inbox_written = False

    def already_handled(self, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.handled

"""Fakes for every service's unit tests: one fake unit of work and a generic fake repository.

A service's unit tests build ``FakeUnitOfWork(contracts=FakeRepository(key="id"), ...)``
with the repositories its use cases need; finders a service adds are added by
subclassing ``FakeRepository`` in that service's ``tests/unit/conftest.py``.
The fake behaves like the real one where tests can tell: changes count only
when committed, events are recorded in order with their subject, an event's
inbox row lands with its handler's effects (with the batch, or with the
handler's own commit), a redelivered event is recognised by its inbox row, and
leaving the block without committing rolls back what the fake can roll back
(recorded events; repositories are not rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, Self, TypeVar

from chassis.events.catalogue import outgoing_envelope
from chassis.events.envelope import Envelope
from chassis.messages import IntegrationEvent
from chassis.pagination import KeyValue, Page, PageRequest, SortKey, paginate_in_memory
from chassis.uow import AlreadyHandled

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


class FakeEventBatch:
    """The message bus's batch transaction over fakes: what it records lands only with ``commit()``."""

    def __init__(self, owner: FakeUnitOfWork, consumer: str, *, savepoints: bool = True) -> None:
        self.owner = owner
        self.consumer = consumer
        # Always as with savepoints: a failed handler's events are dropped (its changes to the fake
        # repositories stay, as they always did), so the bus never needs a second try here.
        del savepoints
        self.savepoints = True
        self.abandoned = False
        self.session: Any = None  # what the bus hands to ``prepare_batch``
        self._recorded: dict[str, tuple[str, str]] = {}
        self._events: list[
            tuple[FakeUnitOfWork, Envelope]
        ] = []  # committed by handlers, not yet by the batch
        self._current: Envelope | None = None
        self.current_committed = False
        self._joined: list[FakeUnitOfWork] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for uow in self._joined:
            uow._batch = None
        self._joined = []

    def claim(self, envelopes: Iterable[Envelope]) -> set[str]:
        """The events handled before (nothing runs beside a fake: what it records lands at the commit)."""
        return {e.id for e in envelopes if (self.consumer, e.id) in self.owner.handled}

    def begin(self, envelope: Envelope) -> None:
        self._current = envelope
        self.current_committed = False

    def end(self, *, recorded: bool) -> None:
        if recorded and self._current is not None:
            self._recorded[self._current.id] = (self.consumer, self._current.id)
        self._current = None
        self.current_committed = False

    def records(self, event_id: str) -> bool:
        return event_id in self._recorded

    def check(self) -> None:
        """The fake's transaction never breaks."""

    @property
    def size(self) -> int:
        return len(self._recorded)

    def commit(self) -> None:
        if not self._recorded:
            return  # only duplicates and failures: nothing to keep
        failure, self.owner.fail_batch_commit = self.owner.fail_batch_commit, None
        if failure is not None:
            raise failure
        self.owner.batch_commits += 1
        for uow, envelope in self._events:
            uow.events.append(envelope)
        self.owner.handled.update(self._recorded.values())
        self._events = []

    def _join(self, uow: FakeUnitOfWork) -> None:
        self._joined.append(uow)

    def _committed(self, uow: FakeUnitOfWork, events: list[Envelope]) -> None:
        self.current_committed = True
        self._events += [(uow, envelope) for envelope in events]


class FakeUnitOfWork:
    """Stands in for a service's SqlAlchemyUnitOfWork; repositories are passed by name.

    Event handling works as with the real one: in a batch (``event_batch``, ``join``)
    a handler's commit counts in ``commits`` but its events and the inbox row land only
    when the batch commits (``batch_commits``); in a transaction of its own
    (``join_inbox``) entering raises ``AlreadyHandled`` for an event in ``handled``.
    Set ``fail_batch_commit`` to an exception to make the next batch commit fail with it.
    """

    producer = "fake"

    def __init__(self, **repositories: Any) -> None:
        for name, repository in repositories.items():
            setattr(self, name, repository)
        self.commits = 0  # handlers' commits (in a batch: their savepoints released)
        self.batch_commits = 0  # batches the message bus committed
        self.events: list[Envelope] = []  # committed events, in order
        self._pending: list[Envelope] = []
        self.handled: set[tuple[str, str]] = set()  # committed inbox rows (consumer, event id)
        self._inbox_entry: tuple[str, str] | None = None
        self.inbox_written = False
        self.entered = 0
        self._batch: FakeEventBatch | None = None
        self.fail_batch_commit: Exception | None = None

    def __enter__(self) -> Self:
        self.entered += 1
        self._pending = []
        entry = self._inbox_entry
        if self._batch is None and entry is not None and not self.inbox_written and entry in self.handled:
            raise AlreadyHandled(f"{entry} was handled before")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.rollback()

    @property
    def committed(self) -> bool:
        return self.commits > 0

    @property
    def joined(self) -> bool:
        return self._batch is not None

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
        if self._batch is not None:
            self._batch._committed(self, self._pending)
            self._pending = []
            return
        self.events.extend(self._pending)
        self._pending = []
        if self._inbox_entry is not None and not self.inbox_written:
            self.handled.add(self._inbox_entry)
            self.inbox_written = True

    def rollback(self) -> None:
        self._pending = []

    def prepare_batch(self, session: Any, events: Sequence[Any]) -> None:
        """Nothing to load ahead: the fake repositories answer from memory."""

    def event_batch(self, consumer: str, *, savepoints: bool = True) -> FakeEventBatch:
        return FakeEventBatch(self, consumer, savepoints=savepoints)

    def join(self, batch: FakeEventBatch) -> None:
        self._batch = batch
        self._inbox_entry = None
        batch._join(self)

    def join_inbox(self, consumer: str, envelope: Envelope) -> None:
        self._inbox_entry = (consumer, envelope.id)
        self.inbox_written = False

    def already_handled(self, consumer: str, event_id: str) -> bool:
        return (consumer, event_id) in self.handled

"""The unit of work: one transaction, rolled back unless committed (cosmicpython ch. 6).

One commit rule for every use case, whether the API or a consumer calls it:
the use case opens its unit of work (``with uow:``), changes state through
repositories, records integration events with ``uow.emit(...)`` and calls
``uow.commit()``. Events go to the outbox in the same transaction as the state
change (DESIGN §2 rule 3), and "this event was handled" (the inbox row) lands
with the handler's effects or not at all (rule 4). How the handler's unit of
work meets the inbox depends on how the message bus runs it:

- **In a batch** (the default for event handlers): the bus opens one
  transaction for up to ``BP_CONSUMER_BATCH`` events (``EventBatch``) and
  hands each handler a unit of work that joined it (``join``). On the bus's
  first try ``uow.commit()`` only flushes; if a handler fails or leaves its
  block uncommitted, the bus applies the batch again with the handler's
  ``with uow:`` a savepoint in that transaction, its ``uow.commit()``
  releasing the savepoint (a failing event rolls back only itself). The bus
  writes the batch's inbox rows first (``EventBatch.claim``), the emitted
  events' outbox rows at the end, and commits once.
- **In its own transaction** (commands and queries, and event handlers
  registered with ``chassis.messagebus.own_transaction``): ``with uow:`` opens
  a transaction and ``commit()`` commits it. For an event, the bus first tells
  the unit of work which inbox row to write (``join_inbox``); entering checks
  the inbox in that same transaction (``AlreadyHandled`` if the event was
  handled before), and ``commit()`` writes the row with the handler's changes.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from chassis.events.catalogue import outgoing_envelope
from chassis.events.envelope import Envelope
from chassis.events.incoming import IncomingEvent
from chassis.messages import IntegrationEvent
from chassis.repository import BATCH_CACHE, batch_cache


class OutboxWakeup:
    """Wakes the relay right after a commit instead of waiting for the next poll.

    In one process a threading.Event does it; across processes on PostgreSQL the
    unit of work also issues NOTIFY, which the relay LISTENs for.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


def notify_channel(service_name: str) -> str:
    return "outbox_" + service_name.replace("-", "_")


class AlreadyHandled(Exception):
    """The event a unit of work was told to record (``join_inbox``) is in the inbox already.

    Raised on entering the unit of work, before the handler changes anything; the
    message bus reports the delivery as a duplicate.
    """


@dataclasses.dataclass(frozen=True)
class InboxEntry:
    consumer: str
    envelope: Envelope


class UnitOfWork(Protocol):
    """What every use case may rely on; services extend it with their repositories."""

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: Any) -> None: ...

    def emit(self, event: IntegrationEvent, *, subject: str) -> Envelope: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def _inbox_row(entry: InboxEntry, at: datetime) -> dict[str, Any]:
    return {
        "consumer": entry.consumer,
        "event_id": entry.envelope.id,
        "event_type": entry.envelope.type,
        "handled_at": at,
    }


def write_outbox(session: Session, outbox: sa.Table, envelopes: list[Envelope], now: datetime) -> None:
    """The envelopes' outbox rows, in one multi-row INSERT (a chunk of the chamber's import, or a
    consumer's batch, emits thousands), in emission order, inside the committing transaction."""
    session.execute(
        sa.insert(outbox),
        [
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "body": envelope.to_json(),
                "headers": {
                    "x-request-id": envelope.correlation_id,
                    "x-causation-id": envelope.causation_id,
                    "x-actor": envelope.actor,
                },
                "created_at": now,
            }
            for envelope in envelopes
        ],
    )


@functools.cache
def _claim_statement(inbox: sa.Table, dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING event_id`` into the inbox, built once per table:
    building it (and its cache key) for every batch cost more than executing it."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(inbox)
        .on_conflict_do_nothing(index_elements=[inbox.c.consumer, inbox.c.event_id])
        .returning(inbox.c.event_id)
    )


class EventBatch:
    """One transaction in which the message bus applies a batch of events (``MessageBus.handle_events``).

    The bus enters it and claims the batch's events in the inbox (``claim``: their inbox rows
    are written first, in this transaction, and what was there already is a duplicate), and
    for each new event ``begin(envelope)``, runs the handler with a unit of work that joined
    this batch, and ``end(recorded=...)``. ``commit()`` removes the claims of the events that
    were not recorded (failed), writes the outbox rows, wakes the relay (NOTIFY on PostgreSQL)
    if a handler emitted events, and commits once. Leaving without ``commit()`` rolls back,
    claims included.

    A claimed inbox row is locked until the batch ends: a concurrent delivery of the same event
    (another consumer process, after a redelivery) waits in its own claim, and finds the event
    handled once this batch committed, or claims it if this batch rolled back. Claims are taken
    in event id order, so two batches claiming some of the same events never deadlock.

    ``savepoints``: whether each handler's ``with uow:`` is a savepoint. Without (the bus's
    first try), a handler's commit only flushes, which saves two round trips per event and
    PostgreSQL's subtransactions; nothing can then be undone for one event alone, so a
    handler that fails, or leaves its unit of work without committing, *abandons* the
    batch (``abandoned``), and the bus rolls it back and applies it again with savepoints.
    The events the handlers emitted are written to the outbox at ``commit()``, in one
    multi-row INSERT in emission order (only what a handler committed is handed over).

    On PostgreSQL each handler savepoint that writes is a subtransaction; a backend
    caches 64 of them, and beyond that other sessions' visibility checks consult
    ``pg_subtrans`` while the batch is open. Batches are short, so that is accepted;
    a smaller ``BP_CONSUMER_BATCH`` keeps under the cache if ``SubtransSLRU`` waits show.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        consumer: str,
        producer: str,
        inbox: sa.Table,
        outbox: sa.Table,
        wakeup: OutboxWakeup | None,
        savepoints: bool = True,
    ) -> None:
        self._session_factory = session_factory
        self.consumer = consumer
        self.producer = producer
        self._inbox = inbox
        self._outbox = outbox
        self._wakeup = wakeup
        self.savepoints = savepoints
        self.abandoned = False
        self.session: Session
        self._recorded: set[str] = set()  # events whose claim commits (handled)
        self._claimed: set[str] = set()  # inbox rows this batch wrote (``claim``)
        self._current: Envelope | None = None
        self._current_committed = False
        self._emitted: list[Envelope] = []
        self._joined: list[SqlAlchemyUnitOfWork] = []

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        try:
            connection = self.session.connection()
            if connection.dialect.name == "sqlite":
                # pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so SQLite
                # would take the first SAVEPOINT for the transaction and its RELEASE for the
                # commit. Begin explicitly, and take the write lock now rather than upgrading
                # a read snapshot later (which SQLite may refuse at once as "locked").
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.session.close()
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for uow in self._joined:
            uow._leave_batch()
        self._joined = []
        try:
            self.session.rollback()  # nothing to undo after commit()
        finally:
            self.session.close()

    # -- the bus's side ------------------------------------------------------------------
    def claim(self, envelopes: Iterable[Envelope]) -> set[str]:
        """Write these events' inbox rows now; returns the ids of those this consumer's inbox
        held already (handled before: nothing of them is to be done). One statement for the
        batch, instead of a look-up first and the rows at the commit."""
        by_id = {envelope.id: envelope for envelope in envelopes}
        if not by_id:
            return set()
        now = datetime.now(UTC)
        rows = [_inbox_row(InboxEntry(self.consumer, by_id[event_id]), now) for event_id in sorted(by_id)]
        # One row is executed as such: SQLAlchemy's executemany path costs more than it saves there.
        inserted = self.session.execute(
            _claim_statement(self._inbox, self.session.get_bind().dialect.name),
            rows[0] if len(rows) == 1 else rows,
        )
        claimed = {row[0] for row in inserted}
        self._claimed |= claimed
        return set(by_id) - claimed

    def begin(self, envelope: Envelope) -> None:
        """The next handler's unit of work belongs to ``envelope``."""
        self._current = envelope
        self._current_committed = False

    @property
    def current_committed(self) -> bool:
        """Whether the current event's handler committed a unit of work (its changes are in the batch)."""
        return self._current_committed

    def end(self, *, recorded: bool) -> None:
        """The current event is done; ``recorded``: its inbox row (its claim) commits with the batch."""
        if recorded and self._current is not None:
            self._recorded.add(self._current.id)
        self._current = None
        self._current_committed = False

    def check(self) -> None:
        """Raise if the batch's transaction can no longer be used (PostgreSQL refuses every
        statement after a failed one that no savepoint caught)."""
        self.session.execute(sa.text("SELECT 1"))

    def commit(self) -> None:
        if not self._recorded:
            return  # only duplicates and failures: nothing of them is kept (leaving rolls back)
        unrecorded = sorted(self._claimed - self._recorded)
        if unrecorded:
            # Failed events: no inbox row, so a redelivery is handled again.
            inbox = self._inbox
            self.session.execute(
                sa.delete(inbox).where(inbox.c.consumer == self.consumer, inbox.c.event_id.in_(unrecorded))
            )
        if self._emitted:
            write_outbox(self.session, self._outbox, self._emitted, datetime.now(UTC))
        if self._emitted and self.session.get_bind().dialect.name == "postgresql":
            # NOTIFY is transactional: the relay hears it only if this commit lands.
            self.session.execute(sa.text(f"NOTIFY {notify_channel(self.producer)}"))
        self.session.commit()
        if self._emitted and self._wakeup is not None:
            self._wakeup.set()

    def records(self, event_id: str) -> bool:
        """Whether the batch keeps this event's inbox row (a second delivery in it is a duplicate)."""
        return event_id in self._recorded

    @property
    def size(self) -> int:
        """Events recorded so far."""
        return len(self._recorded)

    # -- the joined units of work's side ---------------------------------------------------
    def _join(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._joined.append(uow)

    def _committed(self, emitted: list[Envelope]) -> None:
        self._current_committed = True
        self._emitted += emitted

    def _abandon(self) -> None:
        """A handler failed or left its unit of work uncommitted while there was no savepoint to
        roll back to: the batch must not commit (the bus applies it again with savepoints)."""
        self.abandoned = True


class SqlAlchemyUnitOfWork:
    """Base unit of work; services subclass it and bind their repositories in ``_open``."""

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        producer: str,
        outbox: sa.Table,
        inbox: sa.Table,
        wakeup: OutboxWakeup | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.producer = producer
        self._outbox = outbox
        self._inbox = inbox
        self._wakeup = wakeup
        self._emitted: list[Envelope] = []
        self._inbox_entry: InboxEntry | None = None
        self.inbox_written = False
        self._batch: EventBatch | None = None
        self._savepoint: SessionTransaction | None = None
        self._committed_in_block = False

    def __enter__(self) -> Self:
        self._emitted = []
        self._committed_in_block = False
        if self._batch is not None:
            self.session = self._batch.session
            if self._batch.savepoints:
                self._savepoint = self.session.begin_nested()
        else:
            self.session = self._session_factory()
            entry = self._inbox_entry
            if entry is not None and not self.inbox_written:
                try:
                    handled = self.already_handled(entry.consumer, entry.envelope.id)
                except BaseException:
                    self.session.close()
                    raise
                if handled:
                    self.session.close()
                    raise AlreadyHandled(f"{entry.consumer} handled {entry.envelope.id} before")
        self._open()
        return self

    def _open(self) -> None:
        """Hook for repositories bound to ``self.session``."""

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """Hook: called once per batch of events, in the batch's transaction before its handlers
        run, with the events not handled before. A service loads here what its handlers will
        read, a query per table rather than per event (into the session's identity map or its
        ``info``); the handlers run as they would without it."""

    def __exit__(self, *exc_info: Any) -> None:
        session = self.session
        if self._batch is not None:
            self.rollback()  # the savepoint, or what changed after commit() and was not flushed
            return
        if not (session.new or session.dirty or session.deleted):
            # A read-only use: detach what it loaded so callers can still read it,
            # since the rollback below would expire every loaded attribute.
            session.expunge_all()
        self.rollback()
        session.close()

    @property
    def joined(self) -> bool:
        """Whether this unit of work is part of the message bus's batch (see ``join``)."""
        return self._batch is not None

    # -- events ----------------------------------------------------------------
    def emit(self, event: IntegrationEvent, *, subject: str) -> Envelope:
        """Record an integration event; it leaves only if this unit of work commits."""
        envelope = outgoing_envelope(event, producer=self.producer, subject=subject)
        self._emitted.append(envelope)
        return envelope

    def _write_outbox(self) -> None:
        write_outbox(self.session, self._outbox, self._emitted, datetime.now(UTC))

    @property
    def emitted(self) -> list[Envelope]:
        return list(self._emitted)

    # -- transaction -------------------------------------------------------------
    def commit(self) -> None:
        if self._batch is not None:
            # The emitted events join the batch's outbox INSERT at its commit.
            savepoint, self._savepoint = self._savepoint, None
            if savepoint is not None:
                savepoint.commit()  # flushes and releases the savepoint; the batch commits
            elif self._batch.savepoints:
                self.session.flush()  # a second commit in one block: what changed since joins too
            # else the bus's first try, without savepoints: the changes are flushed with the next
            # query that needs them or the batch's commit, so the batch's inserts and updates of
            # one table go together (nothing of one event alone can be undone in this try anyway).
            self._committed_in_block = True
            self._batch._committed(self._emitted)
            self._emitted = []
            return
        if self._emitted:
            self._write_outbox()
        if self._inbox_entry is not None and not self.inbox_written:
            self._write_inbox(self._inbox_entry)
        if self._emitted and self.session.get_bind().dialect.name == "postgresql":
            # NOTIFY is transactional: the relay hears it only if this commit lands.
            self.session.execute(sa.text(f"NOTIFY {notify_channel(self.producer)}"))
        self.session.commit()
        if self._inbox_entry is not None:
            self.inbox_written = True
        if self._emitted and self._wakeup is not None:
            self._wakeup.set()
        self._emitted = []

    def rollback(self) -> None:
        if self._batch is not None:
            savepoint, self._savepoint = self._savepoint, None
            if savepoint is not None:
                savepoint.rollback()  # also after a failed flush left it inactive
            elif not self._batch.savepoints:
                if not self._committed_in_block:
                    self._batch._abandon()  # what this block wrote cannot be undone on its own
                # else: committed last (the one commit rule); nothing unflushed is its own
            else:
                self._discard_unflushed()
            if not self._committed_in_block:
                self.session.info.pop(BATCH_CACHE, None)
        else:
            self.session.rollback()
        self._emitted = []

    def _discard_unflushed(self) -> None:
        """After a joined commit there is no savepoint left to roll back: drop ORM changes made
        since that were not flushed (standalone, the rollback at the end of the block would)."""
        session = self.session
        for instance in [*session.new, *session.deleted]:
            session.expunge(instance)
        for instance in list(session.dirty):
            session.expire(instance)

    # -- batches (the message bus's side) ----------------------------------------------------
    def event_batch(self, consumer: str, *, savepoints: bool = True) -> EventBatch:
        """A transaction for a batch of events handled by ``consumer`` (enter it to begin);
        ``savepoints``: each handler's ``with uow:`` is a savepoint (see ``EventBatch``)."""
        return EventBatch(
            self._session_factory,
            consumer=consumer,
            producer=self.producer,
            inbox=self._inbox,
            outbox=self._outbox,
            wakeup=self._wakeup,
            savepoints=savepoints,
        )

    def join(self, batch: EventBatch) -> None:
        """Make this unit of work part of ``batch``: each ``with self:`` is a savepoint in the
        batch's transaction, ``commit()`` releases it, and the batch commits."""
        self._batch = batch
        batch._join(self)

    def _leave_batch(self) -> None:
        self._batch = None
        self._savepoint = None

    # -- inbox (own transaction) ---------------------------------------------------------------
    def join_inbox(self, consumer: str, envelope: Envelope) -> None:
        """The next commit also records that ``consumer`` handled ``envelope``; entering the unit
        of work first checks that it has not (``AlreadyHandled``)."""
        self._inbox_entry = InboxEntry(consumer, envelope)
        self.inbox_written = False

    def already_handled(self, consumer: str, event_id: str) -> bool:
        row = self.session.execute(
            sa.select(self._inbox.c.event_id).where(
                self._inbox.c.consumer == consumer, self._inbox.c.event_id == event_id
            )
        ).first()
        return row is not None

    def _write_inbox(self, entry: InboxEntry) -> None:
        """Insert the inbox row; a concurrent duplicate fails the commit with IntegrityError."""
        self.session.execute(sa.insert(self._inbox).values(**_inbox_row(entry, datetime.now(UTC))))


__all__ = [
    "AlreadyHandled",
    "EventBatch",
    "IntegrityError",
    "OutboxWakeup",
    "SqlAlchemyUnitOfWork",
    "UnitOfWork",
    "batch_cache",
    "notify_channel",
]

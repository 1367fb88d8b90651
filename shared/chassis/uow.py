"""The unit of work: one transaction, rolled back unless committed (cosmicpython ch. 6).

One commit rule for every use case, whether the API or a consumer calls it:
the use case opens its unit of work (``with uow:``), changes state through
repositories, records integration events with ``uow.emit(...)`` and calls
``uow.commit()``. Events go to the outbox in the same transaction as the state
change (DESIGN §2 rule 3). When a consumer dispatches an event, it first tells
the unit of work which inbox row to write (``join_inbox``); the row is then
written by the same ``commit()``, so the handler's effects and "this event was
handled" land together or not at all (rule 4).
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from typing import Any, Protocol, Self

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chassis.events.catalogue import outgoing_envelope
from chassis.events.envelope import Envelope
from chassis.messages import IntegrationEvent


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

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self._emitted = []
        self._open()
        return self

    def _open(self) -> None:
        """Hook for repositories bound to ``self.session``."""

    def __exit__(self, *exc_info: Any) -> None:
        session = self.session
        if not (session.new or session.dirty or session.deleted):
            # A read-only use: detach what it loaded so callers can still read it,
            # since the rollback below would expire every loaded attribute.
            session.expunge_all()
        self.rollback()
        session.close()

    # -- events ----------------------------------------------------------------
    def emit(self, event: IntegrationEvent, *, subject: str) -> Envelope:
        """Record an integration event; it leaves only if this unit of work commits."""
        envelope = outgoing_envelope(event, producer=self.producer, subject=subject)
        self._emitted.append(envelope)
        return envelope

    def _write_outbox(self) -> None:
        """The emitted events' outbox rows, in one multi-row INSERT (a chunk of the chamber's import
        emits thousands), in emission order, inside the committing transaction."""
        now = datetime.now(UTC)
        self.session.execute(
            sa.insert(self._outbox),
            [
                {
                    "event_id": envelope.id,
                    "event_type": envelope.type,
                    "body": envelope.to_json(),
                    "headers": {
                        "x-request-id": envelope.correlation_id,
                        "x-causation-id": envelope.causation_id,
                    },
                    "created_at": now,
                }
                for envelope in self._emitted
            ],
        )

    @property
    def emitted(self) -> list[Envelope]:
        return list(self._emitted)

    # -- transaction -------------------------------------------------------------
    def commit(self) -> None:
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
        self.session.rollback()
        self._emitted = []

    # -- inbox -----------------------------------------------------------------
    def join_inbox(self, consumer: str, envelope: Envelope) -> None:
        """The next commit also records that ``consumer`` handled ``envelope``."""
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
        self.session.execute(
            sa.insert(self._inbox).values(
                consumer=entry.consumer,
                event_id=entry.envelope.id,
                event_type=entry.envelope.type,
                handled_at=datetime.now(UTC),
            )
        )


__all__ = ["IntegrityError", "OutboxWakeup", "SqlAlchemyUnitOfWork", "UnitOfWork", "notify_channel"]

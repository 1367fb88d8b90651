"""The unit of work: one transaction, rolled back unless committed (cosmicpython ch. 6).

Events raised by a use case are written to the outbox in the same transaction
as the state change (DESIGN §2 rule 3); consumers record the handled event in
the inbox in the same transaction as its effects (rule 4).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from chassis.events.catalogue import check_outgoing
from chassis.events.envelope import Envelope, new_envelope


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


class SqlAlchemyUnitOfWork:
    """Base unit of work; services subclass it and add their repositories in ``_open``."""

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

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Envelope:
        """Record an integration event; it leaves only if this unit of work commits."""
        check_outgoing(event_type, version, payload)
        envelope = new_envelope(
            producer=self.producer,
            event_type=event_type,
            subject=subject,
            payload=payload,
            version=version,
        )
        self.session.execute(
            sa.insert(self._outbox).values(
                event_id=envelope.id,
                event_type=envelope.type,
                body=envelope.to_json(),
                headers={
                    "x-request-id": envelope.correlation_id,
                    "x-causation-id": envelope.causation_id,
                },
                created_at=datetime.now(UTC),
            )
        )
        self._emitted.append(envelope)
        return envelope

    @property
    def emitted(self) -> list[Envelope]:
        return list(self._emitted)

    def commit(self) -> None:
        if self._emitted and self.session.get_bind().dialect.name == "postgresql":
            # NOTIFY is transactional: the relay hears it only if this commit lands.
            self.session.execute(sa.text(f"NOTIFY {notify_channel(self.producer)}"))
        self.session.commit()
        if self._emitted and self._wakeup is not None:
            self._wakeup.set()
        self._emitted = []

    def rollback(self) -> None:
        self.session.rollback()
        self._emitted = []

    # -- inbox -----------------------------------------------------------------
    def already_handled(self, consumer: str, event_id: str) -> bool:
        row = self.session.execute(
            sa.select(self._inbox.c.event_id).where(
                self._inbox.c.consumer == consumer, self._inbox.c.event_id == event_id
            )
        ).first()
        return row is not None

    def mark_handled(self, consumer: str, envelope: Envelope) -> None:
        """Insert the inbox row; a concurrent duplicate fails the commit with IntegrityError."""
        self.session.execute(
            sa.insert(self._inbox).values(
                consumer=consumer,
                event_id=envelope.id,
                event_type=envelope.type,
                handled_at=datetime.now(UTC),
            )
        )


__all__ = ["IntegrityError", "OutboxWakeup", "SqlAlchemyUnitOfWork", "notify_channel"]

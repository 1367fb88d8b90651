"""Retention of the outbox and inbox: rows are kept for a configurable number of days.

The same worker deletes expired ``Idempotency-Key`` answers (chassis.idempotency).

The outbox keeps sent events for inspection; the inbox keeps handled event ids
so that a redelivery is recognised. Both would grow forever. A redelivery older
than the retention (default 30 days, ``BP_MESSAGE_RETENTION_DAYS``) cannot
happen in practice: the broker's queues hold messages for minutes, and a dead
letter replayed after that long is a deliberate, manual act. Unsent outbox rows
are never deleted.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chassis.errors import is_unavailable
from chassis.idempotency_keys import purge_expired

log = logging.getLogger(__name__)

BATCH = 5000


def purge(engine: Engine, outbox: sa.Table, inbox: sa.Table, *, older_than: datetime) -> tuple[int, int]:
    """Delete sent outbox rows and inbox rows older than ``older_than``, in batches; return the counts."""
    sent_before = sa.and_(outbox.c.sent_at.is_not(None), outbox.c.sent_at < older_than)
    handled_before = inbox.c.handled_at < older_than
    return (
        _delete_in_batches(engine, outbox, [outbox.c.position], sent_before),
        _delete_in_batches(engine, inbox, [inbox.c.consumer, inbox.c.event_id], handled_before),
    )


def _delete_in_batches(
    engine: Engine, table: sa.Table, key: list[sa.Column[Any]], condition: sa.ColumnElement[bool]
) -> int:
    """Short transactions, so the purge never holds locks on many rows at once."""
    total = 0
    while True:
        with engine.begin() as conn:
            keys = [tuple(row) for row in conn.execute(sa.select(*key).where(condition).limit(BATCH))]
            if keys:
                conn.execute(sa.delete(table).where(sa.tuple_(*key).in_(keys)))
        total += len(keys)
        if len(keys) < BATCH:
            return total


class RetentionWorker:
    """Purges once at start and then every ``interval`` seconds until stopped."""

    def __init__(
        self,
        engine: Engine,
        outbox: sa.Table,
        inbox: sa.Table,
        *,
        days: int,
        interval: float = 3600.0,
        idempotency_keys: sa.Table | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.inbox = inbox
        self.days = days
        self.interval = interval
        self.idempotency_keys = idempotency_keys

    def run_once(self, now: datetime | None = None) -> tuple[int, int]:
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(days=self.days)
        sent, handled = purge(self.engine, self.outbox, self.inbox, older_than=cutoff)
        if self.idempotency_keys is not None:
            # Stored API answers expire on their own schedule (24 h), not after the retention.
            purge_expired(self.engine, self.idempotency_keys, now)
        if sent or handled:
            log.info(
                "retention: deleted %d sent outbox rows and %d inbox rows before %s", sent, handled, cutoff
            )
        return sent, handled

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("retention: purge failed")
            stop.wait(self.interval)

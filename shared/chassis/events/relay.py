"""The outbox relay: publishes committed events in batches with pipelined publisher confirms.

One batch, in one database transaction:

1. claim up to ``batch_size`` unsent rows in outbox order, ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so several relays (worker replicas) side by side take disjoint batches in the
   common case; never a high-water mark (sequences commit out of order);
2. publish all of them, persistent, without waiting between messages, then wait until the
   broker has answered every one (``ConfirmingPublisher``: one round trip per batch);
3. mark the confirmed rows sent in one UPDATE and commit. A row is marked sent only after
   the broker confirmed it. A nacked row, or every unanswered row after a lost connection
   or a confirm timeout, stays unsent (its ``attempts`` counted) and goes out again after a
   back-off.

While more is waiting (a claim filled the whole batch, or commits were announced since
the claim), the database work of neighbouring batches overlaps the broker's work
(PostgreSQL only): the next batch is claimed while the broker confirms this one and
published as soon as this one is confirmed; this one's marks are then written by a
marker thread, on the batch's own connection and transaction, while the relay claims the
batch after. At most one batch waits for its marks; a pass returns once all are written. The broker still sees what a plain
publisher would do, one batch at a time, each confirmed before the next is sent; so one
relay publishes in outbox order.

At-least-once: a crash (or a failed commit) after the broker confirmed but before the mark
committed publishes those rows again, and the consumers' inboxes drop the duplicates. For
the same reason the marking transaction need not wait for its WAL flush
(``synchronous_commit = off``): a mark lost in a database crash only republishes.

Woken by NOTIFY (or, in one process, by the unit of work directly) with a poll as fallback.
A pass starts as soon as the relay is woken: a single committed event is a batch of one and
waits for no timer; under load a batch takes whatever has accumulated, up to ``batch_size``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine, RootTransaction

from chassis.events.bus import BatchOutcome, ConfirmingPublisher, EventBus, OutgoingMessage
from chassis.events.catalogue import CATALOGUE, redact_secrets
from chassis.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from chassis.uow import OutboxWakeup, notify_channel

log = logging.getLogger(__name__)

#: Rows per batch: large enough that one confirm round trip and one UPDATE serve many events,
#: small enough that a batch holds its row locks and its unconfirmed messages only briefly.
DEFAULT_BATCH_SIZE = 500


#: Event types with one-time secrets, redacted from the outbox once sent.
_WITH_SECRETS = frozenset(contract.type for contract in CATALOGUE if contract.secret_fields)


class PublishNotConfirmed(Exception):
    """Some rows of a batch were not confirmed by the broker; they stay unsent for a later pass."""


@dataclass
class _Claimed:
    """A claimed batch: its rows and the open transaction holding their locks."""

    connection: Connection
    transaction: RootTransaction
    rows: Sequence[Any]  # sqlalchemy Rows (position, event_id, event_type, body, headers)

    def abandon(self) -> None:
        """Roll back (the rows stay unsent and unlocked); quietly, as this runs while failing."""
        try:
            if self.transaction.is_active:
                self.transaction.rollback()
            self.connection.close()
        except Exception:  # the original failure is what matters
            log.debug("rolling back a claimed batch failed", exc_info=True)


class OutboxRelay:
    def __init__(
        self,
        *,
        service_name: str,
        engine: Engine,
        outbox: sa.Table,
        bus: EventBus,
        wakeup: OutboxWakeup | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = 1.0,
        confirm_timeout: float = 30.0,
    ) -> None:
        self.service_name = service_name
        self.engine = engine
        self.outbox = outbox
        self.publisher = ConfirmingPublisher(bus, confirm_timeout=confirm_timeout)
        self.wakeup = wakeup or OutboxWakeup()
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._declared: set[str] = set()
        self._helper_pool: ThreadPoolExecutor | None = None
        self._postgres = engine.dialect.name == "postgresql"
        c = outbox.c
        claim = (
            sa.select(c.position, c.event_id, c.event_type, c.body, c.headers)
            .where(c.sent_at.is_(None))
            .order_by(c.position)
            .limit(batch_size)
        )
        self._claim_rows = claim.with_for_update(skip_locked=True) if self._postgres else claim
        # Rows by position: one array parameter on PostgreSQL instead of one parameter per row.
        among = (
            c.position == sa.any_(sa.bindparam("positions", type_=postgresql.ARRAY(sa.BigInteger)))
            if self._postgres
            else c.position.in_(sa.bindparam("positions", expanding=True))
        )
        # A mark need not wait for its WAL flush (see the module's doc): on PostgreSQL the marking
        # statement itself switches synchronous_commit off for its transaction (set_config, local),
        # which saves the round trip of a SET LOCAL before it.
        marking = [among]
        if self._postgres:
            no_flush_wait = sa.select(sa.func.set_config("synchronous_commit", "off", True)).scalar_subquery()
            marking.append(no_flush_wait == "off")
        self._mark_sent = sa.update(outbox).where(*marking).values(sent_at=sa.bindparam("sent_time"))
        self._count_attempt = sa.update(outbox).where(*marking).values(attempts=c.attempts + 1)
        self._redact = (
            sa.update(outbox)
            .where(c.position == sa.bindparam("row_position"))
            .values(body=sa.bindparam("redacted_body"))
        )

    # -- passes ---------------------------------------------------------------------------
    def relay_batch(self) -> int:
        """Publish one batch of unsent events; returns how many the broker confirmed (now marked sent).

        Raises ``PublishNotConfirmed`` (after committing the marks of what was confirmed) when
        the broker refused part of the batch or stopped answering.
        """
        return self._relay(overlap=False)

    def relay_pending(self, stop: threading.Event | None = None) -> int:
        """Publish every event unsent now, batch after batch until a claim comes back short (or
        ``stop`` is set); returns how many were confirmed and marked sent."""
        if self._postgres:
            return self._relay(overlap=True, stop=stop)
        # SQLite (embedded mode) has one writer; batches go one after the other.
        total = 0
        while not (stop is not None and stop.is_set()):
            sent = self.relay_batch()
            total += sent
            if sent < self.batch_size:
                break
        return total

    def _relay(self, *, overlap: bool, stop: threading.Event | None = None) -> int:
        batch = self._claim()
        if batch is None:
            return 0
        claiming: Future[_Claimed | None] | None = None  # the next batch, claimed by a helper thread
        following: _Claimed | None = None
        marking: Future[int] | None = None  # the previous batch's marks, written by a helper thread
        sent = 0

        def claim_ahead(current: _Claimed) -> Future[_Claimed | None] | None:
            # The next claim runs while the current batch is framed, sent and confirmed.
            if overlap and not (stop is not None and stop.is_set()) and self._more_waiting(current):
                return self._helpers().submit(self._claim)
            return None

        try:
            claiming = claim_ahead(batch)
            self._begin(batch)
            while True:
                outcome = self.publisher.finish_batch()
                if claiming is not None:
                    pending_claim, claiming = claiming, None
                    following = pending_claim.result()
                begin_failure: Exception | None = None
                if following is not None and outcome.complete:
                    # The next batch goes out as soon as this one is confirmed.
                    claiming = claim_ahead(following)
                    try:
                        self._begin(following)
                    except Exception as exc:  # noqa: BLE001 - raised after this batch's marks
                        begin_failure = exc
                if following is not None and (not outcome.complete or begin_failure is not None):
                    following.abandon()
                    following = None
                if marking is not None:
                    pending_marks, marking = marking, None
                    sent += pending_marks.result()  # at most one batch waits for its marks
                if following is not None:
                    # This batch's marks are written by a helper thread, on the batch's own
                    # connection, while the broker works on the next batch.
                    marking = self._helpers().submit(self._finish, batch, outcome)
                    batch, following = following, None
                    continue
                sent += self._finish(batch, outcome)
                if not outcome.complete:
                    raise PublishNotConfirmed(_describe(outcome, len(batch.rows))) from outcome.failure
                if begin_failure is not None:
                    raise begin_failure
                return sent
        except BaseException:
            self._settle_helpers(claiming, marking)
            for claimed in (batch, following):
                if claimed is not None:
                    claimed.abandon()
            if self.publisher.in_flight:
                self.publisher.close()  # nobody will read that batch's answers
            raise

    def _settle_helpers(self, claiming: Future[_Claimed | None] | None, marking: Future[int] | None) -> None:
        """While failing: wait for the helpers' work, roll back what they claimed."""
        if claiming is not None:
            try:
                claimed = claiming.result()
            except Exception:
                log.debug("claiming ahead failed too", exc_info=True)
            else:
                if claimed is not None:
                    claimed.abandon()
        if marking is not None:
            try:
                marking.result()
            except Exception:
                log.warning("marking a confirmed batch sent failed; it goes out again", exc_info=True)

    def _helpers(self) -> ThreadPoolExecutor:
        """Two threads: one claims the next batch, one marks the previous one."""
        if self._helper_pool is None:
            self._helper_pool = ThreadPoolExecutor(2, thread_name_prefix=f"{self.service_name}-outbox")
        return self._helper_pool

    def close(self) -> None:
        """Close the broker connection and stop the helper threads."""
        self.publisher.close()
        if self._helper_pool is not None:
            self._helper_pool.shutdown(wait=True)
            self._helper_pool = None

    # -- steps ------------------------------------------------------------------------------
    def _more_waiting(self, batch: _Claimed) -> bool:
        """A backlog (the claim filled the batch), or commits announced since the claim."""
        if len(batch.rows) == self.batch_size:
            return True
        if self.wakeup.wait(0):
            self.wakeup.clear()  # what it announced is claimed next, so nothing is missed
            return True
        return False

    def _claim(self) -> _Claimed | None:
        connection = self.engine.connect()
        try:
            transaction = connection.begin()
            rows = connection.execute(self._claim_rows).all()
        except BaseException:
            connection.close()
            raise
        if not rows:
            transaction.rollback()
            connection.close()
            OUTBOX_BACKLOG.labels(self.service_name).set(0)
            return None
        OUTBOX_BACKLOG.labels(self.service_name).set(len(rows))
        return _Claimed(connection, transaction, rows)

    def _begin(self, batch: _Claimed) -> None:
        for event_type in {row.event_type for row in batch.rows} - self._declared:
            self.publisher.declare_for_event(event_type)
            self._declared.add(event_type)
        self.publisher.begin_batch([_message(row) for row in batch.rows])

    def _finish(self, batch: _Claimed, outcome: BatchOutcome) -> int:
        """Mark what the broker confirmed sent, count an attempt for the rest, commit."""
        confirmed = set(outcome.confirmed)
        sent = [row for i, row in enumerate(batch.rows) if i in confirmed]
        unsent = [row for i, row in enumerate(batch.rows) if i not in confirmed]
        conn = batch.connection
        if sent:
            positions = [row.position for row in sent]
            conn.execute(self._mark_sent, {"positions": positions, "sent_time": datetime.now(UTC)})
            # One-time secrets (the activation code) went to the broker once; the
            # producer's database keeps no readable copy of them.
            redacted = [
                {"row_position": row.position, "redacted_body": body}
                for row in sent
                if row.event_type in _WITH_SECRETS
                and (body := redact_secrets(row.event_type, row.body)) is not None
            ]
            if redacted:
                conn.execute(self._redact, redacted)
        if unsent:
            conn.execute(self._count_attempt, {"positions": [row.position for row in unsent]})
        batch.transaction.commit()
        batch.connection.close()
        for event_type, count in Counter(row.event_type for row in sent).items():
            EVENTS_PUBLISHED.labels(self.service_name, event_type).inc(count)
        return len(sent)

    # -- the worker ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        listener = self._start_listener(stop)
        backoff = 0.5
        while not stop.is_set():
            self.wakeup.clear()
            try:
                self.relay_pending(stop)
                backoff = 0.5
            except Exception:
                log.warning("outbox relay failed; retrying in %.1fs", backoff, exc_info=True)
                self.publisher.close()
                self._declared.clear()
                self.publisher.bus.forget_declarations()
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
                continue
            if not self.wakeup.wait(self.poll_interval):
                self.publisher.keepalive()
        self.close()
        if listener is not None:
            listener.join(timeout=2)

    def _start_listener(self, stop: threading.Event) -> threading.Thread | None:
        if not self._postgres:
            return None
        thread = threading.Thread(
            target=self._listen, args=(stop,), name=f"{self.service_name}-outbox-listen", daemon=True
        )
        thread.start()
        return thread

    def _listen(self, stop: threading.Event) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        channel = notify_channel(self.service_name)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {channel}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wakeup.set()
            except Exception:
                log.info("outbox LISTEN connection lost; polling until it is back", exc_info=True)
                stop.wait(2.0)


def _message(row: Any) -> OutgoingMessage:
    headers = row.headers if isinstance(row.headers, dict) else json.loads(row.headers)
    return OutgoingMessage(
        body=row.body.encode(), routing_key=row.event_type, message_id=row.event_id, headers=headers
    )


def _describe(outcome: BatchOutcome, claimed: int) -> str:
    unanswered = claimed - len(outcome.confirmed) - len(outcome.nacked)
    parts = [f"{len(outcome.confirmed)} of {claimed} confirmed"]
    if outcome.nacked:
        parts.append(f"{len(outcome.nacked)} refused by the broker")
    if unanswered:
        parts.append(f"{unanswered} unanswered ({outcome.failure!r})")
    return "; ".join(parts) + "; the rest stay unsent for a later pass"

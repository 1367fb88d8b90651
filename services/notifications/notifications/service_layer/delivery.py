"""Delivering the mail outbox: claim due mails, send each outside any transaction, record the outcome.

At-least-once, with a stable Message-ID per mail: a sender that dies between
sending and recording leaves the mail claimed until its lease runs out, after
which it is sent again with the same Message-ID (which receiving systems use
to drop the copy). Nothing the database does can "unsend" a mail, so no send
ever happens inside a transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from prometheus_client import Counter

from notifications.domain.model import OutgoingMail, RetryPolicy
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)

MAILS = Counter("bp_notifications_mails_total", "Mail delivery attempts by outcome", ["outcome"])


class MailDeliveryError(Exception):
    """A failed send. ``detail`` is safe to store and log: it never holds credentials.

    ``permanent``: retrying this mail cannot help. ``server_unavailable``: no mail
    can go right now (no connection, bad login), so the rest of the batch waits too.
    """

    def __init__(self, detail: str, *, permanent: bool = False, server_unavailable: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.server_unavailable = server_unavailable


class MailConnection(Protocol):
    """One session with the mail server, kept open for many mails (reopened after a failure)."""

    def send(self, mail: OutgoingMail) -> None:
        """Hand one mail to the mail server; raise MailDeliveryError unless it accepted the mail."""

    def close(self) -> None:
        """End the session; the next ``send`` opens a new one."""


# Makes a new (not yet opened) connection; each loop of the sender keeps one.
MailTransport = Callable[[], MailConnection]


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # Claimed but not tried (half the lease passed, or the sender is stopping): due again at once,
    # the attempt not counted.
    released: int = 0


UowFactory = Callable[[], NotificationsUnitOfWork]

# How long to keep trying to record a batch's outcome when the database is away (seconds between
# tries): mails the server has accepted would otherwise be sent again after their lease.
RECORD_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


def claim_due_mails(
    uow: NotificationsUnitOfWork, *, now: datetime, lease: timedelta, batch_size: int
) -> list[OutgoingMail]:
    """Take due mails for this sender in one short transaction: count the attempt, lease them."""
    with uow:
        batch = uow.mails.claim_due(now, now + lease, batch_size)
        uow.commit()
    return batch


def deliver_due_mails(
    uow_factory: UowFactory,
    connection: MailConnection,
    policy: RetryPolicy,
    *,
    lease: timedelta,
    batch_size: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """One batch: claim due mails, send them over ``connection`` outside any transaction, then record
    every outcome in one unit of work (the accepted ones in one UPDATE).

    A mail counts as sent only once the server has accepted it. Sending stops at half the lease,
    so no other sender can take a mail of this batch while this one may still send it, and when
    ``stop`` is set (the worker is shutting down); the mails not tried are handed back.
    """
    claimed_at = clock()
    batch = claim_due_mails(uow_factory(), now=claimed_at, lease=lease, batch_size=batch_size)
    if not batch:
        return DeliveryReport()
    send_until = claimed_at + lease / 2
    sent: list[OutgoingMail] = []
    failures: list[tuple[OutgoingMail, MailDeliveryError]] = []
    released: list[OutgoingMail] = []
    waiting = deque(batch)
    try:
        while waiting:
            if clock() >= send_until or (stop is not None and stop.is_set()):
                released.extend(waiting)
                waiting.clear()
                break
            mail = waiting.popleft()
            try:
                connection.send(mail)
            except MailDeliveryError as exc:
                failures.append((mail, exc))
                if exc.server_unavailable:
                    # The mail server cannot take anything now: the rest of the batch waits its
                    # backoff instead of each mail timing out on its own.
                    failures.extend((rest, exc) for rest in waiting)
                    waiting.clear()
                continue
            sent.append(mail)
    finally:
        # Even when something unexpected broke the loop: what the server accepted is recorded
        # (the mails still waiting stay leased and are tried again after the lease).
        report = _record_outcomes(uow_factory, policy, clock, sent, failures, released)
    return dataclasses.replace(report, claimed=len(batch))


def _record_outcomes(
    uow_factory: UowFactory,
    policy: RetryPolicy,
    clock: Callable[[], datetime],
    sent: list[OutgoingMail],
    failures: list[tuple[OutgoingMail, MailDeliveryError]],
    released: list[OutgoingMail],
) -> DeliveryReport:
    now = clock()
    gives_up = {mail.id: policy.gives_up(mail.attempts, permanent=exc.permanent) for mail, exc in failures}
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            with uow_factory() as uow:
                uow.mails.mark_sent([mail.id for mail in sent], now)
                others = [mail.id for mail, _ in failures] + [mail.id for mail in released]
                stored = {mail.id: mail for mail in uow.mails.get_many(others)} if others else {}
                for mail, exc in failures:
                    retry_at = None if gives_up[mail.id] else now + policy.delay_after(mail.attempts)
                    if (row := stored.get(mail.id)) is not None:
                        row.record_failure(exc.detail, retry_at=retry_at)
                for mail in released:
                    if (row := stored.get(mail.id)) is not None:
                        row.release(now)
                uow.commit()
            break
        except Exception:
            if delay is None:
                raise
            log.warning(
                "could not record %d sent mail(s); retrying in %.1fs", len(sent), delay, exc_info=True
            )
            time.sleep(delay)
    for mail in sent:
        log.info("mail %s sent (attempt %d)", mail.message_id, mail.attempts)
    MAILS.labels("sent").inc(len(sent))
    failed = 0
    for mail, exc in failures:
        if gives_up[mail.id]:
            failed += 1
            MAILS.labels("failed").inc()
            log.error(
                "mail %s failed for good after %d attempt(s): %s", mail.message_id, mail.attempts, exc.detail
            )
        else:
            MAILS.labels("retrying").inc()
            log.warning(
                "mail %s not sent (attempt %d), retrying in %.0fs: %s",
                mail.message_id,
                mail.attempts,
                policy.delay_after(mail.attempts).total_seconds(),
                exc.detail,
            )
    if released:
        log.info("%d claimed mail(s) handed back untried (lease half over, or stopping)", len(released))
    return DeliveryReport(
        sent=len(sent), retrying=len(failures) - failed, failed=failed, released=len(released)
    )


class MailSender:
    """The background loops: deliver due mails, then sleep until woken or the poll interval passes.

    ``sessions`` loops run side by side, each with its own kept-open SMTP session and its own
    batches (claimed with SKIP LOCKED, like several replicas). ``batch_size`` is what the sender
    has claimed at most at once, split among its loops: a sender that dies can leave at most that
    many mails accepted by the server but not yet recorded, which go again (same Message-ID)
    after their lease. A session unused for ``session_idle`` seconds is closed; the next mail
    opens a new one.
    """

    def __init__(
        self,
        uow_factory: UowFactory,
        transport: MailTransport,
        policy: RetryPolicy,
        *,
        wakeup: threading.Event,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 100,
        sessions: int = 1,
        session_idle: float = 30.0,
        gather: float = 0.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.uow_factory = uow_factory
        self.transport = transport
        self.policy = policy
        self.wakeup = wakeup
        self.poll_interval = poll_interval
        self.lease = lease
        self.sessions = max(1, min(sessions, batch_size))
        # What one loop claims at once: all loops together never hold more than ``batch_size``.
        self.loop_batch = max(1, batch_size // self.sessions)
        self.session_idle = session_idle
        self.gather = gather
        self.clock = clock

    def run_once(self, connection: MailConnection, stop: threading.Event | None = None) -> DeliveryReport:
        return deliver_due_mails(
            self.uow_factory,
            connection,
            self.policy,
            lease=self.lease,
            batch_size=self.loop_batch,
            clock=self.clock,
            stop=stop,
        )

    def run(self, stop: threading.Event) -> None:
        """Every session's loop until ``stop``; this thread runs the first."""
        name = threading.current_thread().name
        others = [
            threading.Thread(target=self._loop, args=(stop,), name=f"{name}-{index}", daemon=True)
            for index in range(1, self.sessions)
        ]
        for thread in others:
            thread.start()
        try:
            self._loop(stop)
        finally:
            for thread in others:
                thread.join()

    def _loop(self, stop: threading.Event) -> None:
        connection = self.transport()
        backoff = 0.5
        last_used = time.monotonic()
        try:
            while not stop.is_set():
                self.wakeup.clear()
                try:
                    report = self.run_once(connection, stop)
                    backoff = 0.5
                except Exception:  # e.g. the database is away: keep the loop alive
                    log.warning("mail sender failed; retrying in %.1fs", backoff, exc_info=True)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 15.0)
                    continue
                if report.claimed:
                    last_used = time.monotonic()
                if report.claimed < self.loop_batch and self._idle(stop, connection, last_used):
                    # Woken by a commit that queued mail: while events keep coming (a bulk import
                    # queues one mail per event), wait a moment for more, so that they go out in
                    # batches instead of one claim (per loop) for every event.
                    stop.wait(self.gather)
        finally:
            connection.close()

    def _idle(self, stop: threading.Event, connection: MailConnection, last_used: float) -> bool:
        """Wait for a wakeup (True) or the poll interval (False), noticing ``stop`` within a quarter
        second; close the session once it has been unused for ``session_idle`` seconds."""
        deadline = time.monotonic() + self.poll_interval
        while not stop.is_set():
            now = time.monotonic()
            if now - last_used >= self.session_idle:
                connection.close()  # idempotent
            remaining = deadline - now
            if remaining <= 0:
                return False
            if self.wakeup.wait(min(remaining, 0.25)):
                return True
        return False

"""Delivering the mail outbox: claim due mails, send each outside any transaction, record the outcome.

At-least-once, with a stable Message-ID per mail: a sender that dies between
sending and recording leaves the mail claimed until its lease runs out, after
which it is sent again with the same Message-ID (which receiving systems use
to drop the copy). Nothing the database does can "unsend" a mail, so no send
ever happens inside a transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
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
    def send(self, mail: OutgoingMail) -> None:
        """Hand one mail to the mail server; raise MailDeliveryError if it was not accepted."""


# Opens a connection for one batch (e.g. one SMTP session) and closes it afterwards.
MailTransport = Callable[[], AbstractContextManager[MailConnection]]


@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


UowFactory = Callable[[], NotificationsUnitOfWork]


def claim_due_mails(
    uow: NotificationsUnitOfWork, *, now: datetime, lease: timedelta, batch_size: int
) -> list[OutgoingMail]:
    """Take due mails for this sender in one short transaction: count the attempt, lease them."""
    with uow:
        batch = uow.mails.due(now, batch_size)
        for mail in batch:
            mail.claim(lease_until=now + lease)
        uow.commit()
    return batch


def deliver_due_mails(
    uow_factory: UowFactory,
    transport: MailTransport,
    policy: RetryPolicy,
    *,
    lease: timedelta,
    batch_size: int,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliveryReport:
    batch = claim_due_mails(uow_factory(), now=clock(), lease=lease, batch_size=batch_size)
    if not batch:
        return DeliveryReport()
    sent = retrying = failed = 0
    waiting = list(batch)
    try:
        with transport() as connection:
            while waiting:
                mail = waiting.pop(0)
                try:
                    connection.send(mail)
                except MailDeliveryError as exc:
                    if exc.server_unavailable:
                        waiting.insert(0, mail)
                        raise
                    failed_for_good = _record_failure(uow_factory, mail, exc, policy, clock)
                    failed += failed_for_good
                    retrying += not failed_for_good
                    continue
                _record_sent(uow_factory, mail, clock())
                MAILS.labels("sent").inc()
                log.info("mail %s sent (attempt %d)", mail.message_id, mail.attempts)
                sent += 1
    except MailDeliveryError as exc:
        # The mail server cannot take anything now: the rest of the batch waits its backoff
        # instead of each mail timing out on its own.
        for mail in waiting:
            failed_for_good = _record_failure(uow_factory, mail, exc, policy, clock)
            failed += failed_for_good
            retrying += not failed_for_good
    return DeliveryReport(claimed=len(batch), sent=sent, retrying=retrying, failed=failed)


def _record_sent(uow_factory: UowFactory, mail: OutgoingMail, at: datetime) -> None:
    with uow_factory() as uow:
        stored = uow.mails.get(mail.id)
        if stored is not None:
            stored.mark_sent(at)
            uow.commit()


def _record_failure(
    uow_factory: UowFactory,
    mail: OutgoingMail,
    exc: MailDeliveryError,
    policy: RetryPolicy,
    clock: Callable[[], datetime],
) -> bool:
    """Store the failure; True when the mail gave up for good."""
    gives_up = policy.gives_up(mail.attempts, permanent=exc.permanent)
    retry_at = None if gives_up else clock() + policy.delay_after(mail.attempts)
    with uow_factory() as uow:
        stored = uow.mails.get(mail.id)
        if stored is not None:
            stored.record_failure(exc.detail, retry_at=retry_at)
            uow.commit()
    if gives_up:
        MAILS.labels("failed").inc()
        log.error(
            "mail %s failed for good after %d attempt(s): %s", mail.message_id, mail.attempts, exc.detail
        )
    else:
        MAILS.labels("retrying").inc()
        log.warning(
            "mail %s not sent (attempt %d), retrying at %s: %s",
            mail.message_id,
            mail.attempts,
            retry_at.isoformat() if retry_at else "-",
            exc.detail,
        )
    return gives_up


class MailSender:
    """The background loop: deliver due mails, then sleep until woken or the poll interval passes."""

    def __init__(
        self,
        uow_factory: UowFactory,
        transport: MailTransport,
        policy: RetryPolicy,
        *,
        wakeup: threading.Event,
        poll_interval: float = 1.0,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 20,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.uow_factory = uow_factory
        self.transport = transport
        self.policy = policy
        self.wakeup = wakeup
        self.poll_interval = poll_interval
        self.lease = lease
        self.batch_size = batch_size
        self.clock = clock

    def run_once(self) -> DeliveryReport:
        return deliver_due_mails(
            self.uow_factory,
            self.transport,
            self.policy,
            lease=self.lease,
            batch_size=self.batch_size,
            clock=self.clock,
        )

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            self.wakeup.clear()
            try:
                report = self.run_once()
                backoff = 0.5
            except Exception:  # e.g. the database is away: keep the loop alive
                log.warning("mail sender failed; retrying in %.1fs", backoff, exc_info=True)
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
                continue
            if report.claimed < self.batch_size:
                self._idle(stop)

    def _idle(self, stop: threading.Event) -> None:
        """Wait for a wakeup or the poll interval, but notice ``stop`` within a quarter second."""
        deadline = time.monotonic() + self.poll_interval
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.wakeup.wait(min(remaining, 0.25)):
                return

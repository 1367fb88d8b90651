"""Fakes for the unit tests: the chassis' fake unit of work with this service's finders, and a mail transport."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

import pytest

from chassis.pagination import Page, PageRequest
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from notifications.adapters.repository import NOTICE_ORDER
from notifications.domain.model import MailStatus, Notice, NoticeAudience, OutgoingMail
from notifications.service_layer.delivery import MailDeliveryError


class FakeMails(FakeRepository[OutgoingMail]):
    def __init__(self) -> None:
        super().__init__(key="id")
        self.mark_sent_calls = 0

    def add(self, mail: OutgoingMail) -> None:
        assert self.get_by_key(mail.idempotency_key) is None, "unique idempotency key"
        super().add(mail)

    def get_by_key(self, key: str) -> OutgoingMail | None:
        return self.first(lambda m: m.idempotency_key == key)

    def add_unless_present(self, mail: OutgoingMail) -> bool:
        if self.get_by_key(mail.idempotency_key) is not None:
            return False
        self.add(mail)
        return True

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutgoingMail]:
        due = sorted(self.find(lambda m: m.is_due(now)), key=lambda m: (m.next_attempt_at, m.id))[:limit]
        for mail in due:
            mail.claim(lease_until)
        return sorted(due, key=lambda m: (m.created_at, m.id))

    def mark_sent(self, ids: Collection[str], at: datetime) -> int:
        pending = [m for m in self.get_many(ids) if m.status is MailStatus.PENDING]
        for mail in pending:
            mail.mark_sent(at)
        self.mark_sent_calls += 1
        return len(pending)

    def get_many(self, ids: Collection[str]) -> list[OutgoingMail]:
        return [mail for mail in (self.get(i) for i in ids) if mail is not None]

    def newest(self, status: MailStatus | None = None, limit: int = 50) -> list[OutgoingMail]:
        mails = self.find(lambda m: status is None or m.status is status)
        return sorted(mails, key=lambda m: m.created_at, reverse=True)[:limit]

    def with_open_link(self, account_id: str, kind: str, *, expiring_by: datetime) -> list[OutgoingMail]:
        return self.find(
            lambda m: (
                m.account_id == account_id
                and m.link_kind == kind
                and m.link_voided_at is None
                and m.link_expires_at is not None
                and m.link_expires_at <= expiring_by
            )
        )

    def with_expired_links(self, now: datetime, limit: int) -> list[OutgoingMail]:
        return self.find(
            lambda m: (
                m.link_kind is not None
                and m.link_voided_at is None
                and m.link_expires_at is not None
                and m.link_expires_at <= now
            )
        )[:limit]

    def requeue_failed(self, now: datetime) -> int:
        failed = self.find(lambda m: m.status is MailStatus.FAILED)
        for mail in failed:
            mail.status, mail.attempts, mail.next_attempt_at = MailStatus.PENDING, 0, now
        return len(failed)


class FakeNotices(FakeRepository[Notice]):
    def __init__(self) -> None:
        super().__init__(key="id")
        self.reads: dict[tuple[str, str], datetime] = {}

    def add(self, notice: Notice) -> None:
        assert self.get_by_source(notice.source_event_id) is None, "unique source event"
        super().add(notice)

    def get_by_source(self, event_id: str) -> Notice | None:
        return self.first(lambda n: n.source_event_id == event_id)

    def add_unless_present(self, notice: Notice) -> bool:
        if self.get_by_source(notice.source_event_id) is not None:
            return False
        self.add(notice)
        return True

    def page_visible(
        self, audience: NoticeAudience, reader: str, *, unread_only: bool, request: PageRequest
    ) -> Page[Notice]:
        return self.page(
            lambda n: audience.can_see(n) and not (unread_only and (n.id, reader) in self.reads),
            NOTICE_ORDER,
            request,
        )

    def count_unread(self, audience: NoticeAudience, reader: str) -> int:
        return len(self.find(lambda n: audience.can_see(n) and (n.id, reader) not in self.reads))

    def read_times(self, notice_ids: Collection[str], reader: str) -> dict[str, datetime]:
        return {i: self.reads[(i, reader)] for i in notice_ids if (i, reader) in self.reads}

    def mark_read(self, notice_id: str, reader: str, at: datetime) -> None:
        self.reads.setdefault((notice_id, reader), at)


class FakeNotificationsUnitOfWork(FakeUnitOfWork):
    mails: FakeMails
    notices: FakeNotices

    def __init__(self) -> None:
        super().__init__(mails=FakeMails(), notices=FakeNotices())
        self.mail_queued = False

    def queue_mail(self) -> None:
        self.mail_queued = True


@pytest.fixture
def fake_uow() -> FakeNotificationsUnitOfWork:
    """One fake database: every unit of work the factory hands out shares its repositories."""
    return FakeNotificationsUnitOfWork()


@pytest.fixture
def uow_factory(fake_uow: FakeNotificationsUnitOfWork) -> Callable[[], FakeNotificationsUnitOfWork]:
    return lambda: fake_uow


class FakeConnection:
    """A kept-open session: opened by the first send after ``close``; a scripted failure that says
    the server is gone closes it, like ``SmtpConnection``."""

    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport
        self.is_open = False

    def send(self, mail: OutgoingMail) -> None:
        if not self.is_open:
            if self.transport.connect_failures:
                raise self.transport.connect_failures.pop(0)
            self.transport.sessions += 1
            self.is_open = True
        if self.transport.before_send is not None:
            self.transport.before_send(mail)
        if self.transport.send_failures:
            failure = self.transport.send_failures.pop(0)
            if failure.server_unavailable:
                self.is_open = False
            raise failure
        self.transport.sent.append(mail)

    def close(self) -> None:
        if self.is_open:
            self.transport.closed += 1
        self.is_open = False


class FakeTransport:
    """Records sent mails; ``connect_failures`` / ``send_failures`` script what goes wrong,
    ``before_send`` runs before each send (e.g. to move a fake clock)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.connect_failures: list[MailDeliveryError] = []
        self.send_failures: list[MailDeliveryError] = []
        self.before_send: Callable[[OutgoingMail], None] | None = None
        self.sessions = 0
        self.closed = 0
        self.connections: list[FakeConnection] = []

    def __call__(self) -> FakeConnection:
        connection = FakeConnection(self)
        self.connections.append(connection)
        return connection


@pytest.fixture
def fake_transport() -> FakeTransport:
    return FakeTransport()

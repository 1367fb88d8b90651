"""Fakes for the unit tests: the chassis' fake unit of work with this service's finders, and a mail transport."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
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

    def add(self, mail: OutgoingMail) -> None:
        assert self.get_by_key(mail.idempotency_key) is None, "unique idempotency key"
        super().add(mail)

    def get_by_key(self, key: str) -> OutgoingMail | None:
        return self.first(lambda m: m.idempotency_key == key)

    def due(self, now: datetime, limit: int) -> list[OutgoingMail]:
        return sorted(self.find(lambda m: m.is_due(now)), key=lambda m: m.next_attempt_at)[:limit]

    def newest(self, status: MailStatus | None = None, limit: int = 50) -> list[OutgoingMail]:
        mails = self.find(lambda m: status is None or m.status is status)
        return sorted(mails, key=lambda m: m.created_at, reverse=True)[:limit]

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
    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport

    def send(self, mail: OutgoingMail) -> None:
        if self.transport.send_failures:
            raise self.transport.send_failures.pop(0)
        self.transport.sent.append(mail)


class FakeTransport:
    """Records sent mails; ``connect_failures`` / ``send_failures`` script what goes wrong."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.connect_failures: list[MailDeliveryError] = []
        self.send_failures: list[MailDeliveryError] = []
        self.sessions = 0

    def __call__(self) -> AbstractContextManager[FakeConnection]:
        @contextmanager
        def session() -> Iterator[FakeConnection]:
            if self.connect_failures:
                raise self.connect_failures.pop(0)
            self.sessions += 1
            yield FakeConnection(self)

        return session()


@pytest.fixture
def fake_transport() -> FakeTransport:
    return FakeTransport()

"""Shared test helpers: event payloads, fakes for unit tests, and a runtime for integration tests."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chassis.config import ServiceSettings
from chassis.events.bus import Publisher
from chassis.events.envelope import Envelope, new_envelope
from chassis.testing.running import RunningRuntime
from notifications.bootstrap import bootstrap
from notifications.domain.model import MailStatus, Notice, NoticeAudience, OutgoingMail
from notifications.entrypoints.mailer import start_mail_sender
from notifications.service_layer.delivery import MailDeliveryError

DOCUMENT_ISSUED = "documents.document.issued"
PASSWORD_RESET_REQUESTED = "identity.password_reset.requested"
PORTAL_URL = "https://portal.example/"


# -- event payloads -------------------------------------------------------------------
def _issued_payload(kind: str = "apprentice", **overrides: Any) -> dict[str, Any]:
    recipient: dict[str, Any]
    if kind == "apprentice":
        recipient = {
            "kind": "apprentice",
            "apprentice_number": "20269999",
            "company_number": None,
            "name": "Lena Lernwillig",
            "email": "lena@example.org",
        }
    else:
        recipient = {
            "kind": "company",
            "company_number": "4711001",
            "apprentice_number": None,
            "name": "Muster Maschinenbau GmbH",
            "email": "ausbildung@muster.example",
        }
    recipient.update(overrides.pop("recipient", {}))
    payload = {
        "document_id": str(uuid.uuid4()),
        "kind": "registration_confirmation",
        "title": "Eintragungsbestätigung 2026-000123",
        "contract_id": str(uuid.uuid4()),
        "recipient": recipient,
        "issued_at": datetime.now(UTC).isoformat(),
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def issued_payload() -> Callable[..., dict[str, Any]]:
    """``issued_payload(kind="apprentice"|"company", **overrides)``: a valid documents.document.issued payload."""
    return _issued_payload


@pytest.fixture
def issued_envelope() -> Callable[..., Envelope]:
    def make(payload: dict[str, Any] | None = None, **payload_overrides: Any) -> Envelope:
        payload = payload if payload is not None else _issued_payload(**payload_overrides)
        return new_envelope(
            producer="documents",
            event_type=DOCUMENT_ISSUED,
            subject=str(payload.get("document_id", "x")),
            payload=payload,
        )

    return make


def _reset_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "account_id": str(uuid.uuid4()),
        "email": "paula@example.org",
        "name": "Paula Probst",
        "reset_url": "https://portal.example/auth/password/reset/Einmal-Token_abc123",
        # 14:30 UTC is 15:30 in Berlin (winter time).
        "expires_at": "2026-11-24T14:30:00+00:00",
    } | overrides


@pytest.fixture
def reset_envelope() -> Callable[..., Envelope]:
    """``reset_envelope(**overrides)``: a valid identity.password_reset.requested event."""

    def make(**overrides: Any) -> Envelope:
        payload = _reset_payload(**overrides)
        return new_envelope(
            producer="identity",
            event_type=PASSWORD_RESET_REQUESTED,
            subject=payload["account_id"],
            payload=payload,
        )

    return make


# -- fakes for unit tests ---------------------------------------------------------------
class FakeMailRepository:
    def __init__(self) -> None:
        self.rows: dict[str, OutgoingMail] = {}

    def add(self, mail: OutgoingMail) -> None:
        assert all(m.idempotency_key != mail.idempotency_key for m in self.rows.values()), "unique key"
        self.rows[mail.id] = mail

    def get(self, mail_id: str) -> OutgoingMail | None:
        return self.rows.get(mail_id)

    def get_by_key(self, key: str) -> OutgoingMail | None:
        return next((m for m in self.rows.values() if m.idempotency_key == key), None)

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutgoingMail]:
        due = sorted(
            (m for m in self.rows.values() if m.status is MailStatus.PENDING and m.next_attempt_at <= now),
            key=lambda m: m.next_attempt_at,
        )[:limit]
        claimed = [replace(m, attempts=m.attempts + 1, next_attempt_at=lease_until) for m in due]
        for mail in claimed:
            self.rows[mail.id] = mail
        return claimed

    def mark_sent(self, mail_id: str, at: datetime) -> None:
        self.rows[mail_id] = self.rows[mail_id].sent(at)

    def record_failure(self, mail_id: str, error: str, *, retry_at: datetime | None) -> None:
        mail = self.rows[mail_id]
        if retry_at is None:
            self.rows[mail_id] = replace(mail, status=MailStatus.FAILED, last_error=error[:500])
        else:
            self.rows[mail_id] = replace(mail, next_attempt_at=retry_at, last_error=error[:500])


class FakeNoticeRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Notice] = {}
        self.reads: dict[tuple[str, str], datetime] = {}

    def add(self, notice: Notice) -> None:
        assert all(n.source_event_id != notice.source_event_id for n in self.rows.values()), "unique source"
        self.rows[notice.id] = notice

    def get_by_source(self, event_id: str) -> Notice | None:
        return next((n for n in self.rows.values() if n.source_event_id == event_id), None)

    def _for(self, notice: Notice, reader: str) -> Notice:
        return replace(notice, read_at=self.reads.get((notice.id, reader)))

    def list_visible(
        self, audience: NoticeAudience, reader: str, *, unread_only: bool, limit: int
    ) -> list[Notice]:
        items = [self._for(n, reader) for n in self.rows.values() if audience.can_see(n)]
        items = [n for n in items if not (unread_only and n.read_at is not None)]
        return sorted(items, key=lambda n: n.created_at, reverse=True)[:limit]

    def count_unread(self, audience: NoticeAudience, reader: str) -> int:
        return len(self.list_visible(audience, reader, unread_only=True, limit=10**9))

    def get_visible(self, notice_id: str, audience: NoticeAudience, reader: str) -> Notice | None:
        notice = self.rows.get(notice_id)
        return self._for(notice, reader) if notice and audience.can_see(notice) else None

    def mark_read(self, notice_id: str, reader: str, at: datetime) -> None:
        self.reads.setdefault((notice_id, reader), at)


class FakeUnitOfWork:
    """Shares its repositories across instances, like one database; changes count only when committed."""

    def __init__(self) -> None:
        self.mails = FakeMailRepository()
        self.notices = FakeNoticeRepository()
        self.commits = 0
        self.mail_queued = False

    def __call__(self) -> FakeUnitOfWork:  # so the fake is also its own factory
        return self

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def queue_mail(self) -> None:
        self.mail_queued = True

    def commit(self) -> None:
        self.commits += 1


@pytest.fixture
def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


class FakeConnection:
    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport

    def send(self, mail: OutgoingMail) -> None:
        if self.transport.send_failures:
            error = self.transport.send_failures.pop(0)
            raise error
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


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- integration helpers ------------------------------------------------------------------
@pytest.fixture
def smtp_port() -> int:
    """A free port for the test SMTP server, known before the runtime is configured."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def runtime_env(tmp_path: Path, queue_prefix: str, smtp_port: int) -> dict[str, str]:
    return {
        "BP_DATA_DIR": str(tmp_path),
        "BP_QUEUE_PREFIX": queue_prefix,
        "BP_EXCHANGE": f"{queue_prefix}events",
        "BP_PUBLIC_URL": PORTAL_URL.rstrip("/"),
        "BP_CONSUMER_MAX_ATTEMPTS": "3",
        "BP_OUTBOX_POLL_INTERVAL": "0.2",
        "BP_LOG_JSON": "0",
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": str(smtp_port),
        "NOTIFICATIONS_SMTP_TIMEOUT": "3",
        "NOTIFICATIONS_MAIL_POLL_INTERVAL": "0.1",
        "NOTIFICATIONS_MAIL_RETRY_BASE": "0.3",
        "NOTIFICATIONS_MAIL_RETRY_MAX": "1",
    }


class RunningService(RunningRuntime):
    """A migrated notifications runtime whose background work (relay, consumer, mailer) can be started."""

    def start(self) -> None:
        super().start()
        self.add(start_mail_sender(self.runtime, self.stop))

    def publish(self, envelope: Envelope | str | bytes, *, message_id: str | None = None) -> None:
        publisher = Publisher(self.runtime.bus)
        try:
            body = envelope.to_json() if isinstance(envelope, Envelope) else envelope
            msg_id = envelope.id if isinstance(envelope, Envelope) else message_id
            routing_key = envelope.type if isinstance(envelope, Envelope) else DOCUMENT_ISSUED
            publisher.publish(body, routing_key=routing_key, message_id=msg_id)
        finally:
            publisher.close()

    def mails(self) -> list[OutgoingMail]:
        with self.runtime.uow_factory() as uow:
            return list(uow.mails.list(None, 1000))  # type: ignore[attr-defined]


def _service(env: dict[str, str]) -> Iterator[RunningService]:
    runtime = bootstrap(ServiceSettings.from_env("notifications", env))
    runtime.migrate()
    service = RunningService(runtime)
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def pg_service(database_url: str, amqp_url: str, runtime_env: dict[str, str]) -> Iterator[RunningService]:
    """notifications on the real PostgreSQL and RabbitMQ (not started yet)."""
    yield from _service({**runtime_env, "NOTIFICATIONS_DATABASE_URL": database_url, "BP_BUS_URL": amqp_url})


@pytest.fixture
def embedded_service(tmp_path: Path, runtime_env: dict[str, str]) -> Iterator[RunningService]:
    """notifications as in embedded mode: SQLite and kombu's in-memory transport (not started yet)."""
    yield from _service(
        {
            **runtime_env,
            "NOTIFICATIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'notifications.db'}",
            "BP_BUS_URL": "memory://",
        }
    )

"""Shared test helpers: event payloads and a clock for every tier, a runtime for integration tests.

The fakes of the unit tests are in ``tests/unit/conftest.py``.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chassis.config import ServiceSettings
from chassis.contracts.documents import DocumentIssued
from chassis.contracts.identity import PasswordResetRequested
from chassis.events.bus import Publisher
from chassis.events.consumer import parse_message
from chassis.events.envelope import Envelope, new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.testing.running import RunningRuntime
from chassis.testing.smtp import CollectingHandler
from notifications.bootstrap import NotificationsRuntime, bootstrap
from notifications.domain.model import OutgoingMail
from notifications.domain.queries import ListMails

DOCUMENT_ISSUED = DocumentIssued.TYPE
PASSWORD_RESET_REQUESTED = PasswordResetRequested.TYPE
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


def as_received(envelope: Envelope) -> IncomingEvent[Any]:
    """The event as the consumer hands it to a handler: envelope and typed payload."""
    return parse_message(envelope.to_json())


@pytest.fixture
def issued_event(issued_envelope: Callable[..., Envelope]) -> Callable[..., IncomingEvent[DocumentIssued]]:
    """``issued_event(kind=..., **payload_overrides)``: a received documents.document.issued event."""

    def make(
        payload: dict[str, Any] | None = None, **payload_overrides: Any
    ) -> IncomingEvent[DocumentIssued]:
        return as_received(issued_envelope(payload, **payload_overrides))

    return make


@pytest.fixture
def reset_event(
    reset_envelope: Callable[..., Envelope],
) -> Callable[..., IncomingEvent[PasswordResetRequested]]:
    """``reset_event(**payload_overrides)``: a received identity.password_reset.requested event."""

    def make(**overrides: Any) -> IncomingEvent[PasswordResetRequested]:
        return as_received(reset_envelope(**overrides))

    return make


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


class ScriptedHandler(CollectingHandler):
    """The collecting test server's handler with a script of what goes wrong.

    - ``peers``: the client's (host, port) of each accepted mail, i.e. which SMTP session carried it;
    - ``data_replies``: answers for the next DATAs instead of accepting (``None`` accepts);
    - ``accept_limit``: after this many accepted mails the server "dies": every later DATA drops
      the connection unanswered, and ``gone`` is set;
    - ``mails_per_session``: a server limit; MAIL FROM beyond it in one session answers 421;
    - ``quits``: the sessions the client ended with QUIT.
    """

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[tuple[str, int]] = []
        self.data_replies: list[str | None] = []
        self.accept_limit: int | None = None
        self.mails_per_session: int | None = None
        self.gone = threading.Event()
        self.quits: list[tuple[str, int]] = []
        self._per_session: dict[tuple[str, int], int] = {}

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        count = self._per_session.get(session.peer, 0)
        if self.mails_per_session is not None and count >= self.mails_per_session:
            return "421 4.7.0 Too many mails in this session"
        self._per_session[session.peer] = count + 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.quits.append(session.peer)
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if reply is not None:
                return reply
        if self.accept_limit is not None and len(self.messages) >= self.accept_limit:
            self.gone.set()
            server.transport.close()  # dies before answering: the client cannot know
            return "421 4.3.2 Shutting down"
        reply = await super().handle_DATA(server, session, envelope)
        self.peers.append(session.peer)
        return reply

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]


@contextmanager
def scripted_smtp(port: int, handler: ScriptedHandler | None = None) -> Iterator[ScriptedHandler]:
    """An aiosmtpd server on ``port`` with a ``ScriptedHandler`` (chassis' ``smtp_server`` with a script)."""
    from aiosmtpd.controller import Controller

    handler = handler or ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def scripted_smtp_server(smtp_port: int) -> Callable[..., Any]:
    """``with scripted_smtp_server() as handler:`` a scripted test SMTP server on ``smtp_port``."""
    return lambda handler=None: scripted_smtp(smtp_port, handler)


class RunningService(RunningRuntime):
    """A migrated notifications runtime; ``start()`` runs its declared workers (relay, consumer, mailer, …)."""

    runtime: NotificationsRuntime

    def publish(self, envelope: Envelope | str | bytes, *, message_id: str | None = None) -> None:
        """Put an event (or any body, to test poison) on the bus, as a producer's relay would."""
        publisher = Publisher(self.runtime.broker)
        try:
            body = envelope.to_json() if isinstance(envelope, Envelope) else envelope
            msg_id = envelope.id if isinstance(envelope, Envelope) else message_id
            routing_key = envelope.type if isinstance(envelope, Envelope) else DOCUMENT_ISSUED
            publisher.publish(body, routing_key=routing_key, message_id=msg_id)
        finally:
            publisher.close()

    def mails(self) -> list[OutgoingMail]:
        mails: list[OutgoingMail] = self.runtime.bus.handle(ListMails(None, 1000))
        return mails


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

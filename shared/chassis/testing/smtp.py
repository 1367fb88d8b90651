"""A real SMTP server for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any


class CollectingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class CountingHandler:
    """Counts accepted mails per recipient domain and keeps no bodies (benchmarks: 200,000 mails)."""

    def __init__(self) -> None:
        self.accepted: dict[str, int] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        for recipient in envelope.rcpt_tos:
            domain = recipient.rsplit("@", 1)[-1].lower()
            self.accepted[domain] = self.accepted.get(domain, 0) + 1
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[str, int, CollectingHandler]]:
    handler = CollectingHandler()
    with smtp_server_with(handler, host, port) as (bound_host, bound_port):
        yield bound_host, bound_port, handler


@contextmanager
def smtp_server_with(handler: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[str, int]]:
    """A real SMTP server on ``host``:``port`` (0: a free one) handing each mail to ``handler``."""
    from aiosmtpd.controller import Controller

    if port == 0:
        import socket

        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    controller = Controller(handler, hostname=host, port=port)
    controller.start()
    try:
        yield host, port
    finally:
        controller.stop()

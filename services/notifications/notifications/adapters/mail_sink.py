"""A local SMTP sink for the embedded mode: accepts every mail and keeps it as an ``.eml`` file.

The gateway starts it next to the portal so that mails sent in embedded mode
can be read on the page "Postfach (Entwicklung)". API::

    sink = MailSink()
    sink.start(host="127.0.0.1", port=8025, directory=None)  # port 0: a free one; None: $BP_DATA_DIR/mails
    sink.port                                               # where it listens
    ...
    for mail in read_mails(sink.directory):   # newest first
        mail.subject, mail.sender, mail.recipients, mail.date, mail.text
    sink.stop()

It never relays anything anywhere, and binds to the loopback interface by default.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from chassis.config import data_dir

log = logging.getLogger(__name__)

ENVELOPE_HEADER = "X-Envelope-To"
# Mails are small here; this keeps a runaway client from filling the disk.
MAX_MESSAGE_BYTES = 5 * 1024 * 1024


def default_directory() -> Path:
    return data_dir() / "mails"


class _StoreHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        recipients = ", ".join(envelope.rcpt_tos)
        # Which mailboxes the server was asked to deliver to (Bcc never shows in the headers).
        data = f"{ENVELOPE_HEADER}: {recipients}\r\n".encode() + content
        # The name comes from the clock and a random id, never from the message.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.directory / name)  # readers never see half a file
        log.info("mail sink stored %s for %s", name, recipients)
        return "250 Message accepted for delivery"


def _controller_class() -> type:
    from aiosmtpd.controller import Controller

    class ListeningController(Controller):
        """aiosmtpd's threaded controller on a socket that is already listening.

        The sink binds its port itself, in the caller's thread: a port in use is
        an ``OSError`` there and then, and port 0 gets a free port with no window
        in which another process could take it.
        """

        def __init__(self, listener: socket.socket, handler: Any, **kwargs: Any) -> None:
            self._listener = listener
            host, port = listener.getsockname()[:2]
            super().__init__(handler, hostname=host, port=port, **kwargs)

        def _create_server(self) -> Any:
            return self.loop.create_server(self._factory_invoker, sock=self._listener, ssl=self.ssl_context)

    return ListeningController


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: a free port); ``OSError`` when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


class MailSink:
    """An aiosmtpd server in a background thread that stores every mail it receives."""

    def __init__(self) -> None:
        self._controller: Any = None
        self.directory: Path | None = None
        self.host: str | None = None
        self.port: int | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self, host: str = "127.0.0.1", port: int = 8025, directory: str | Path | None = None) -> None:
        """Listen on ``host:port`` (0 picks a free port, see ``self.port``) and store into ``directory``.

        Raises ``OSError`` (``errno.EADDRINUSE``) at once when the port is taken.
        """
        if self.running:
            raise RuntimeError("the mail sink is already running")
        target = Path(directory) if directory is not None else default_directory()
        target.mkdir(parents=True, exist_ok=True)
        listener = listen(host, port)
        try:
            controller = _controller_class()(
                listener, _StoreHandler(target), data_size_limit=MAX_MESSAGE_BYTES
            )
            controller.start()
        except BaseException:
            listener.close()
            raise
        self._controller = controller
        self.directory, self.host, self.port = target, host, int(listener.getsockname()[1])
        log.info("mail sink listening on %s:%d, storing in %s", host, self.port, target)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass(frozen=True)
class StoredMail:
    """One received mail, as the development mailbox page shows it."""

    id: str  # the file name without ".eml"; safe to put in a URL
    subject: str
    sender: str
    recipients: tuple[str, ...]
    date: datetime | None
    message_id: str
    text: str
    html: str | None


def read_mails(directory: str | Path | None = None, limit: int | None = None) -> list[StoredMail]:
    """The stored mails, newest first. Unreadable files are skipped, never fatal."""
    folder = Path(directory) if directory is not None else default_directory()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), reverse=True)
    mails = []
    for path in files[:limit] if limit is not None else files:
        try:
            mails.append(_parse(path))
        except (OSError, ValueError, LookupError):
            log.warning("mail sink: cannot read %s", path.name, exc_info=True)
    return mails


def read_mail(directory: str | Path | None, mail_id: str) -> StoredMail | None:
    """One mail by its id, or None (also for ids that try to leave the directory)."""
    folder = Path(directory) if directory is not None else default_directory()
    if not mail_id or "/" in mail_id or "\\" in mail_id or mail_id.startswith("."):
        return None
    path = folder / f"{mail_id}.eml"
    if not path.is_file():
        return None
    return _parse(path)


def _text(value: object) -> str:
    """A header as text. SMTPUTF8 mails (RFC 6532) carry raw UTF-8 in headers, which the
    bytes parser keeps as surrogate escapes; turn those back into characters."""
    text = str(value)
    try:
        return text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text  # already proper text (RFC 2047 words were decoded)


def _body(part: MIMEPart | None) -> str | None:
    # Mails keep SMTP's CRLF line ends on disk; pages want plain newlines.
    return part.get_content().replace("\r\n", "\n") if part is not None else None


def _parse(path: Path) -> StoredMail:
    message = email.message_from_bytes(path.read_bytes(), _class=EmailMessage, policy=email.policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    to_header = message.get("To")
    if to_header is not None and getattr(to_header, "addresses", None):
        recipients = tuple(_text(address) for address in to_header.addresses)
    else:
        envelope = _text(message.get(ENVELOPE_HEADER, ""))
        recipients = tuple(part.strip() for part in envelope.split(",") if part.strip())
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return StoredMail(
        id=path.stem,
        subject=_text(message.get("Subject", "")),
        sender=_text(message.get("From", "")),
        recipients=recipients,
        date=date,
        message_id=str(message.get("Message-ID", "")),
        text=_body(text_part) or "",
        html=_body(html_part),
    )

"""Sending mails over SMTP (smtplib), and turning an outbox row into a MIME message."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from notifications.config import MailSettings
from notifications.domain.model import OutgoingMail
from notifications.service_layer.delivery import MailDeliveryError

log = logging.getLogger(__name__)


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """Plain text first, an HTML alternative second (RFC 2046: the last part is preferred)."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    message["To"] = Address(display_name=mail.recipient_name, addr_spec=mail.recipient_email)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # The idempotency key: identical for every attempt of this mail.
    message["Message-ID"] = mail.message_id
    # RFC 3834: no auto-replies (holiday notices) back to a noreply address.
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "de"
    message.set_content(mail.text_body, subtype="plain", charset="utf-8")
    message.add_alternative(mail.html_body, subtype="html", charset="utf-8")
    return message


def describe_error(exc: BaseException) -> str:
    """A short, credential-free account of what went wrong (stored in the mail outbox)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"recipient refused ({', '.join(str(c) for c in codes)})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # The server's answer may quote what we sent; keep only the code.
        return f"SMTP authentication failed ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"SMTP {exc.smtp_code}: {text}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def is_permanent(exc: BaseException) -> bool:
    """5xx answers about the mail or its recipient will not change on retry.

    Authentication failures are a 5xx too, but they are our configuration's
    fault and affect every mail: retry them, so fixing the settings saves them.
    """
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


class SmtpConnection:
    """One SMTP session, opened lazily and reopened after a failure."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            try:
                smtp.ehlo()
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
            except BaseException:
                _quietly_close(smtp)
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, mail: OutgoingMail) -> None:
        try:
            message = build_message(mail, self.settings.mail_from)
        except (ValueError, TypeError, MessageError) as exc:
            # An address the mail library cannot write will not get better on retry.
            raise MailDeliveryError(
                f"cannot build the message: {type(exc).__name__}", permanent=True
            ) from None
        try:
            smtp = self._open()
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(describe_error(exc), server_unavailable=True) from None
        try:
            smtp.send_message(message, to_addrs=[mail.recipient_email])
        except (smtplib.SMTPException, OSError) as exc:
            permanent = is_permanent(exc)
            if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                # The session may be unusable; start afresh for the next mail.
                self.close()
            raise MailDeliveryError(describe_error(exc), permanent=permanent) from None

    def close(self) -> None:
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class SmtpTransport:
    """``MailTransport`` for the sender: one SMTP session per batch."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @contextmanager
    def __call__(self) -> Iterator[SmtpConnection]:
        connection = SmtpConnection(self.settings)
        try:
            yield connection
        finally:
            connection.close()

"""Sending mails over SMTP (smtplib): an outbox row rendered as MIME bytes, over one kept-open session.

Rendering is done here by hand rather than with ``email.message.EmailMessage``: the message
always has the same shape (multipart/alternative, a UTF-8 text part and an HTML part, both
quoted-printable), and the stdlib's generic header machinery costs about 2.5 ms of CPU per mail,
twenty times what this costs, which a bulk import of 10,000 contracts (20,000 mails) cannot
afford on two cores. The encoders are still the stdlib's (``binascii.b2a_qp``, ``email.header``),
and the unit tests parse every rendered message back with ``email.policy.default``.
"""

from __future__ import annotations

import binascii
import functools
import logging
import secrets
import smtplib
import ssl
from email.errors import MessageError
from email.headerregistry import Address
from email.utils import formataddr, formatdate, parseaddr

from notifications.config import MailSettings
from notifications.domain.model import OutgoingMail
from notifications.service_layer.delivery import MailDeliveryError

log = logging.getLogger(__name__)

CRLF = "\r\n"
# What a malformed address or header value raises in the stdlib's parsers and encoders.
_RENDER_ERRORS = (ValueError, TypeError, IndexError, UnicodeError, MessageError)


# -- rendering -------------------------------------------------------------------------------


def envelope_address(addr_spec: str) -> str:
    """``addr_spec`` checked (RFC 5322 addr-spec, no CR/LF) and made ASCII for MAIL FROM / RCPT TO.

    An internationalised domain becomes its IDNA (xn--) form, which every server takes; a
    non-ASCII local part is refused (``ValueError``), as it needs SMTPUTF8 end to end.
    """
    try:
        address = Address(addr_spec=addr_spec)
    except _RENDER_ERRORS as exc:  # the parser's errors are of several kinds
        raise ValueError(f"not an address: {type(exc).__name__}") from None
    if not address.username or not address.domain:
        raise ValueError("an address needs a local part and a domain")
    domain = address.domain if address.domain.isascii() else address.domain.encode("idna").decode("ascii")
    return f"{address.username}@{domain}" if domain != address.domain else address.addr_spec


def _single_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must be one line")
    return value


# RFC 2047 "Q" encoding: characters that stand for themselves in an encoded word, in a phrase
# (a display name) as well as in unstructured text (the subject).
_Q_LITERAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
# An encoded word is at most 75 characters, "=?utf-8?q?" and "?=" included (RFC 2047 §2).
_Q_WORD_TEXT = 75 - len("=?utf-8?q??=")


@functools.lru_cache(maxsize=4096)
def _q(char: str) -> str:
    if char in _Q_LITERAL:
        return char
    if char == " ":
        return "_"
    return "".join(f"={byte:02X}" for byte in char.encode("utf-8"))


def encoded_words(text: str, *, indent: int = 0) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, Q), each whole characters and at most 75 long,
    one per folded line, the first shorter by ``indent`` (the header's name) so that no line
    exceeds 78. Decoders drop the folding between encoded words; spaces are inside them.

    (Python's ``email.policy.default`` keeps that folding as a space inside a display name, against
    RFC 2047 §6.2; a name short enough for one encoded word, as most are, reads the same everywhere.)
    """
    words: list[str] = []
    word: list[str] = []
    length = 0
    room = _Q_WORD_TEXT - max(0, indent - 3)
    for char in text:
        encoded = _q(char)
        if length + len(encoded) > room and word:
            words.append("".join(word))
            word, length, room = [], 0, _Q_WORD_TEXT
        word.append(encoded)
        length += len(encoded)
    words.append("".join(word))
    return (CRLF + " ").join(f"=?utf-8?q?{word}?=" for word in words)


def _plain(value: str) -> bool:
    """Whether ``value`` can be written as it is: printable ASCII, and nothing a reader would
    take for an encoded word."""
    return value.isascii() and value.isprintable() and "=?" not in value


def mailbox_header(name: str, addr: str, header_name: str) -> str:
    """``Name <addr>`` for a From/To header: quoted when the name needs it, RFC 2047 when not ASCII."""
    name = _single_line(name, header_name)
    if not name:
        return addr
    if _plain(name):
        return formataddr((name, addr))
    words = encoded_words(name, indent=len(header_name) + 2)
    last_line = len(words.rsplit(CRLF, 1)[-1]) + (len(header_name) + 2 if CRLF not in words else 0)
    # The address on a line of its own when it would make this one longer than 78.
    separator = " " if last_line + len(addr) + 3 <= 78 else CRLF + " "
    return f"{words}{separator}<{addr}>"


def subject_header(subject: str) -> str:
    """The subject as it is when ASCII (a line may be 998 long; ours are at most 400), else encoded words."""
    subject = _single_line(subject, "Subject")
    return subject if _plain(subject) else encoded_words(subject, indent=len("Subject: "))


def _quoted_printable(text: str) -> bytes:
    """UTF-8, quoted-printable, CRLF line ends (RFC 2045): 76-character lines, trailing blanks encoded."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(lines.encode("utf-8"), quotetabs=False, istext=True, header=False)
    # b2a_qp ends its soft line breaks as the input's first line ends, and a body without any
    # line end gets bare LFs, which SMTP forbids (and which made one 999-byte "line"): every
    # line end, hard or soft, is written as CRLF here.
    return encoded.replace(b"\n", CRLF.encode("ascii"))


class Sender:
    """The configured ``From`` (``NOTIFICATIONS_MAIL_FROM``), parsed once: header and envelope address."""

    def __init__(self, mail_from: str) -> None:
        name, addr = parseaddr(mail_from)
        try:
            self.envelope = envelope_address(addr)
            self.header = mailbox_header(name, self.envelope, "From")
        except _RENDER_ERRORS as exc:
            raise ValueError(f"NOTIFICATIONS_MAIL_FROM is not a usable address: {mail_from!r}") from exc


def render_message(mail: OutgoingMail, sender: Sender) -> tuple[str, bytes]:
    """The envelope recipient and the whole message as SMTP DATA (CRLF line ends, not dot-stuffed).

    Plain text first, the HTML alternative second (RFC 2046: the last part is preferred).
    Raises ``ValueError`` (or another of the stdlib's parse errors) for an address or header
    value that cannot be written; retrying such a mail cannot help.
    """
    recipient = envelope_address(mail.recipient_email)
    message_id = _single_line(mail.message_id, "Message-ID")
    # "=_" never occurs in quoted-printable text, so the boundary cannot collide with a body.
    boundary = f"=_bp_{secrets.token_hex(16)}"
    head = CRLF.join(
        [
            f"Subject: {subject_header(mail.subject)}",
            f"From: {sender.header}",
            f"To: {mailbox_header(mail.recipient_name, recipient, 'To')}",
            f"Date: {formatdate(usegmt=True)}",
            # The idempotency key: identical for every attempt of this mail.
            f"Message-ID: {message_id}",
            # RFC 3834: no auto-replies (holiday notices) back to a noreply address.
            "Auto-Submitted: auto-generated",
            "Content-Language: de",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
            "",
            "",
        ]
    )
    parts = [head.encode("ascii")]
    for subtype, body in (("plain", mail.text_body), ("html", mail.html_body)):
        parts.append(
            f"--{boundary}{CRLF}Content-Type: text/{subtype}; charset=utf-8{CRLF}"
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}".encode("ascii")
        )
        parts.append(_quoted_printable(body))
        parts.append(CRLF.encode("ascii"))
    parts.append(f"--{boundary}--{CRLF}".encode("ascii"))
    return recipient, b"".join(parts)


# -- errors ----------------------------------------------------------------------------------


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


# -- the session -----------------------------------------------------------------------------

# The server is closing the session (RFC 5321 §3.8): an idle timeout or a limit of mails per session.
SERVICE_CLOSING = 421


class _SessionGone(Exception):
    """The kept-open session was dropped before this mail's MAIL FROM was accepted."""


class SmtpConnection:
    """One SMTP session kept open for many mails: opened on the first send, reopened after a failure.

    A mail counts as sent only when the server has answered 250 to its DATA. When a session
    that already carried mails turns out to be gone at MAIL FROM (the server's idle timeout,
    or its limit of mails per session: a 421 or a dropped connection), nothing of this mail
    has been accepted yet, so it goes out at once over a new session instead of waiting for
    a retry. ``close()`` ends the session (QUIT); the next ``send`` opens a new one.
    """

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.sender = Sender(settings.mail_from)
        self._smtp: smtplib.SMTP | None = None
        self._carried = 0  # mails accepted over the open session
        self.sessions_opened = 0

    @property
    def is_open(self) -> bool:
        return self._smtp is not None

    def _open(self) -> smtplib.SMTP:
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
        self.sessions_opened += 1
        self._carried = 0
        return smtp

    def _session(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._open()
            except (smtplib.SMTPException, OSError) as exc:
                raise MailDeliveryError(describe_error(exc), server_unavailable=True) from None
        return self._smtp

    def send(self, mail: OutgoingMail) -> None:
        try:
            recipient, data = render_message(mail, self.sender)
        except _RENDER_ERRORS as exc:
            # An address the mail cannot be written to will not get better on retry.
            raise MailDeliveryError(
                f"cannot build the message: {type(exc).__name__}", permanent=True
            ) from None
        smtp = self._session()
        try:
            try:
                self._begin(smtp)
            except _SessionGone:
                self.close()
                smtp = self._session()
                self._begin(smtp, reused=False)
            self._transfer(smtp, recipient, data)
        except (smtplib.SMTPException, OSError) as exc:
            if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused) and not (
                isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code == SERVICE_CLOSING
            ):
                self._reset()
            else:
                # The session may be unusable; start afresh for the next mail.
                self.close()
            raise MailDeliveryError(describe_error(exc), permanent=is_permanent(exc)) from None
        self._carried += 1

    def _begin(self, smtp: smtplib.SMTP, *, reused: bool | None = None) -> None:
        """MAIL FROM. ``_SessionGone`` when a session that already carried mails has been dropped."""
        reused = self._carried > 0 if reused is None else reused
        try:
            code, reply = smtp.mail(self.sender.envelope)
        except smtplib.SMTPServerDisconnected:
            if reused:
                raise _SessionGone() from None
            raise
        if code == SERVICE_CLOSING and reused:
            raise _SessionGone()
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.sender.envelope)

    def _transfer(self, smtp: smtplib.SMTP, recipient: str, data: bytes) -> None:
        """RCPT TO and DATA; returns only when the server has accepted the mail (250)."""
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        code, reply = smtp.data(data)  # raises SMTPDataError if DATA itself is refused
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def _reset(self) -> None:
        """After a refused sender or recipient: RSET, so the session can carry the next mail."""
        if self._smtp is None:
            return
        try:
            code, _ = self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self.close()

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
    """``MailTransport`` for the sender: each call is a new ``SmtpConnection`` (one kept-open session)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        Sender(settings.mail_from)  # a bad NOTIFICATIONS_MAIL_FROM stops the start, not every mail

    def __call__(self) -> SmtpConnection:
        return SmtpConnection(self.settings)

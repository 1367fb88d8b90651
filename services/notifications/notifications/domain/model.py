"""The notifications domain: what a new document or a reset request means for a person.

Plain Python only. ``IssuedDocument`` and ``PasswordReset`` copy an allowlist of
facts out of an event's payload, so that what a mail or a notice can say is
decided here, field by field, and not by whatever a producer adds to its contract.
``OutgoingMail`` (the mail outbox) and ``Notice`` are mapped onto their tables by
``notifications.adapters.orm``.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# The right-hand side of every Message-ID we generate.
MESSAGE_ID_DOMAIN = "bildungsportal"

# What a mail's stored error may hold (the column's width).
MAX_ERROR_LENGTH = 500


class RecipientKind(enum.StrEnum):
    COMPANY = "company"
    APPRENTICE = "apprentice"


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    name: str
    email: str
    company_number: str | None = None
    apprentice_number: str | None = None

    @property
    def number(self) -> str | None:
        """The chamber number that addresses in-portal notices to this recipient."""
        return self.company_number if self.kind is RecipientKind.COMPANY else self.apprentice_number


@dataclass(frozen=True)
class IssuedDocument:
    """The facts of ``documents.document.issued`` a notification may use, and only those."""

    event_id: str
    document_id: str
    title: str
    recipient: Recipient


@dataclass(frozen=True)
class PasswordReset:
    """The facts of ``identity.password_reset.requested`` the reset mail may use.

    ``reset_url`` carries a one-time token: it goes into the mail and nowhere
    else (no notice, no log line).
    """

    event_id: str
    name: str
    email: str
    reset_url: str | None = field(repr=False)  # kept out of tracebacks; None once used or expired
    expires_at: datetime
    account_id: str | None = None


def idempotency_key(event_id: str) -> str:
    """One mail per event: the event id is the mail's idempotency key."""
    return str(uuid.UUID(str(event_id)))


def message_id_for(key: str) -> str:
    """Deterministic, so a mail re-sent after a crash carries the same Message-ID."""
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


@dataclass
class OutgoingMail:
    """A mail of the mail outbox: composed when the event is handled, sent later by the sender.

    Its life: pending (claimed and leased by a sender, possibly several times) ->
    sent, or -> failed when retrying cannot help (``bp-notifications mails-retry`` puts
    failed mails back, after fixing what made them fail).
    """

    id: str
    idempotency_key: str
    message_id: str
    recipient_name: str
    recipient_email: str
    subject: str
    text_body: str
    html_body: str
    created_at: datetime
    next_attempt_at: datetime
    status: MailStatus = MailStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    # A mail with a one-time link (password reset, registration): whose, which, until when, and
    # when the stored copy lost it (the link is replaced by a note once used or expired).
    account_id: str | None = None
    link_kind: str | None = None
    link_expires_at: datetime | None = None
    link_voided_at: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        return self.status is MailStatus.PENDING and self.next_attempt_at <= now

    def claim(self, lease_until: datetime) -> None:
        """A sender takes the mail: the attempt counts, and others leave it alone until ``lease_until``."""
        self.attempts += 1
        self.next_attempt_at = lease_until

    def release(self, at: datetime) -> None:
        """A claimed mail this sender did not get to: due again at ``at``; the claim's attempt does not count."""
        if self.status is not MailStatus.PENDING:
            return
        self.attempts = max(self.attempts - 1, 0)
        self.next_attempt_at = at

    def mark_sent(self, at: datetime) -> None:
        self.status = MailStatus.SENT
        self.sent_at = at
        self.last_error = None

    def record_failure(self, error: str, *, retry_at: datetime | None) -> None:
        """Back to waiting until ``retry_at``, or failed for good when it is None.

        Only a pending mail changes: another sender may have finished it after
        this one's lease ran out.
        """
        if self.status is not MailStatus.PENDING:
            return
        self.last_error = error[:MAX_ERROR_LENGTH]
        if retry_at is None:
            self.status = MailStatus.FAILED
        else:
            self.next_attempt_at = retry_at


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 5.0
    max_delay: float = 900.0

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff after the ``attempts``-th failed attempt."""
        exponent = max(attempts - 1, 0)
        return timedelta(seconds=min(self.base_delay * (2**exponent), self.max_delay))

    def gives_up(self, attempts: int, *, permanent: bool) -> bool:
        return permanent or attempts >= self.max_attempts


@dataclass
class Notice:
    """An in-portal notice for one recipient (a company or an apprentice).

    Whether it has been read is a matter of each reader (``ReaderNotice``): the
    same company notice can be read by one of its administrators and still be
    unread for another.
    """

    id: str
    source_event_id: str
    document_id: str
    recipient_kind: RecipientKind
    company_number: str | None
    apprentice_number: str | None
    title: str
    message: str
    created_at: datetime


@dataclass(frozen=True)
class ReaderNotice:
    """A notice as one reader sees it: with the time they first marked it read, if they did."""

    notice: Notice
    read_at: datetime | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class NoticeAudience:
    """Whose notices a caller may see: their own Azubinummer and companies they act for."""

    apprentice_number: str | None = None
    company_numbers: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self.apprentice_number is None and not self.company_numbers

    def can_see(self, notice: Notice) -> bool:
        if notice.recipient_kind is RecipientKind.APPRENTICE:
            return self.apprentice_number is not None and notice.apprentice_number == self.apprentice_number
        return notice.company_number in self.company_numbers

"""The notifications domain: what a new document means for its recipient.

Plain Python only. A ``DocumentIssued`` copies an allowlist of facts out of the
event, so nothing else a producer might send (an activation code, say) can reach
a mail or a notice by accident.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

# The right-hand side of every Message-ID we generate.
MESSAGE_ID_DOMAIN = "bildungsportal"

# Company roles that receive company documents (Eintragungsbestätigung etc.):
# administrators and Verwalter. Ausbilder see record books only (DESIGN §4).
COMPANY_DOCUMENT_ROLES = frozenset({"admin", "manager"})


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
class DocumentIssued:
    """The facts of ``documents.document.issued`` a notification may use, and only those."""

    event_id: str
    document_id: str
    title: str
    recipient: Recipient

    @classmethod
    def from_event(cls, event_id: str, data: Mapping[str, Any]) -> DocumentIssued:
        recipient = data["recipient"]
        return cls(
            event_id=str(event_id),
            document_id=str(data["document_id"]),
            title=str(data["title"]),
            recipient=Recipient(
                kind=RecipientKind(recipient["kind"]),
                name=str(recipient["name"]),
                email=str(recipient["email"]),
                company_number=recipient.get("company_number"),
                apprentice_number=recipient.get("apprentice_number"),
            ),
        )


@dataclass(frozen=True)
class PasswordResetRequested:
    """The facts of ``identity.password_reset.requested`` the reset mail may use.

    ``reset_url`` carries a one-time token: it goes into the mail and nowhere
    else (no notice, no log line).
    """

    event_id: str
    name: str
    email: str
    reset_url: str = field(repr=False)  # kept out of tracebacks and debug output
    expires_at: datetime

    @classmethod
    def from_event(cls, event_id: str, data: Mapping[str, Any]) -> PasswordResetRequested:
        """``data`` as loaded by the contract's schema (``expires_at`` is a datetime)."""
        return cls(
            event_id=str(event_id),
            name=str(data["name"]),
            email=str(data["email"]),
            reset_url=str(data["reset_url"]),
            expires_at=data["expires_at"],
        )


def idempotency_key(event_id: str) -> str:
    """One mail per event: the event id is the mail's idempotency key."""
    return str(uuid.UUID(str(event_id)))


def message_id_for(key: str) -> str:
    """Deterministic, so a mail re-sent after a crash carries the same Message-ID."""
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class OutgoingMail:
    """A row of the mail outbox: composed when the event is handled, sent later."""

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

    def sent(self, at: datetime) -> OutgoingMail:
        return replace(self, status=MailStatus.SENT, sent_at=at, last_error=None)


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


@dataclass(frozen=True)
class Notice:
    """An in-portal notice for one recipient (a company or an apprentice).

    ``read_at`` is per reader: the same company notice can be read by one of its
    administrators and still be unread for another.
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
    read_at: datetime | None = None


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


def audience_from_claims(
    apprentice_number: str | None, company_roles: Mapping[str, frozenset[str]]
) -> NoticeAudience:
    return NoticeAudience(
        apprentice_number=apprentice_number or None,
        company_numbers=frozenset(
            number for number, roles in company_roles.items() if roles & COMPANY_DOCUMENT_ROLES
        ),
    )

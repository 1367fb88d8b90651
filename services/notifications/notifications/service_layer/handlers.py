"""Event handlers. The consumer commits their effects together with the inbox row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chassis.events.consumer import Handler, IncomingEvent
from notifications.domain.messages import mail_for, notice_for, password_reset_mail_for
from notifications.domain.model import DocumentIssued, PasswordResetRequested, idempotency_key

log = logging.getLogger(__name__)

DOCUMENT_ISSUED = "documents.document.issued"
PASSWORD_RESET_REQUESTED = "identity.password_reset.requested"  # noqa: S105 - an event type


class DocumentIssuedHandler:
    """A new document: queue one mail (sent later by the mail sender) and store one notice.

    Sending is not done here: the SMTP conversation must not sit inside a
    transaction that could still roll back after the mail has left.
    """

    def __init__(self, portal_url: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.portal_url = portal_url
        self.clock = clock

    def __call__(self, event: IncomingEvent, uow: Any) -> None:
        document = DocumentIssued.from_event(event.envelope.id, event.data)
        now = self.clock()
        # The inbox already drops redelivered events; these checks keep the
        # handler idempotent on its own (e.g. an event replayed under a new inbox).
        if uow.mails.get_by_key(idempotency_key(document.event_id)) is None:
            uow.mails.add(mail_for(document, self.portal_url, now))
            uow.queue_mail()
        if uow.notices.get_by_source(document.event_id) is None:
            notice = notice_for(document, now)
            if notice is None:
                log.warning(
                    "document %s: recipient of kind %s has no number; mail only, no notice",
                    document.document_id,
                    document.recipient.kind,
                )
            else:
                uow.notices.add(notice)


class PasswordResetRequestedHandler:
    """Someone asked for a new password: queue the mail with the link, and nothing else.

    No in-portal notice: the person cannot log in. Never log the event's data,
    it holds a one-time link that sets a password.
    """

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock

    def __call__(self, event: IncomingEvent, uow: Any) -> None:
        reset = PasswordResetRequested.from_event(event.envelope.id, event.data)
        # Idempotent on its own, like the document mail (see DocumentIssuedHandler).
        if uow.mails.get_by_key(idempotency_key(reset.event_id)) is None:
            uow.mails.add(password_reset_mail_for(reset, self.clock()))
            uow.queue_mail()


def make_handlers(portal_url: str) -> dict[str, Handler]:
    return {
        DOCUMENT_ISSUED: DocumentIssuedHandler(portal_url),
        PASSWORD_RESET_REQUESTED: PasswordResetRequestedHandler(),
    }

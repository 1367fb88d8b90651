"""notifications' use cases: every command, query and event handler, as ``handle(message, uow, *, deps)``.

Each handler owns its unit of work: it opens it and commits what it changes (for
an event, the inbox row joins that commit; when nothing changes, the message bus
records the inbox row on its own). The bootstrap binds the dependencies a handler
names (``clock``, ``portal_url``) with ``functools.partial``.

Event handlers only queue mail (a pending row of the mail outbox); they never
talk SMTP, so no mail leaves from a transaction that could still roll back. The
mail sender (``service_layer.delivery``) sends it afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chassis.contracts.documents import DocumentIssued
from chassis.contracts.identity import DeputyshipApproved, PasswordResetRequested
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page
from notifications.domain import access
from notifications.domain.commands import MarkNoticeRead, RetryFailedMails
from notifications.domain.deputy_messages import ApprovedDeputyship, deputy_mail_for
from notifications.domain.messages import mail_for, notice_for, password_reset_mail_for
from notifications.domain.model import (
    IssuedDocument,
    OutgoingMail,
    PasswordReset,
    ReaderNotice,
    Recipient,
    RecipientKind,
)
from notifications.domain.queries import CountUnreadNotices, ListMails, ListNotices
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


# -- events --------------------------------------------------------------------------------


def document_issued(
    event: IncomingEvent[DocumentIssued], uow: NotificationsUnitOfWork, *, clock: Clock, portal_url: str
) -> None:
    """A new document: queue one mail to its recipient and store one in-portal notice."""
    document = issued_document(event)
    now = clock()
    mail = mail_for(document, portal_url, now)
    notice = notice_for(document, now)
    with uow:
        # The inbox already drops redelivered events; inserting only what is not there yet keeps
        # the handler idempotent on its own (e.g. an event replayed under a new inbox), in one
        # statement per row rather than a look-up first (a bulk import brings thousands of events).
        changed = False
        if uow.mails.add_unless_present(mail):
            uow.queue_mail()
            changed = True
        if notice is None:
            log.warning(
                "document %s: recipient of kind %s has no number; mail only, no notice",
                document.document_id,
                document.recipient.kind,
            )
        elif uow.notices.add_unless_present(notice):
            changed = True
        if changed:
            uow.commit()


def password_reset_requested(
    event: IncomingEvent[PasswordResetRequested], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    """Someone asked for a new password: queue the mail with the link, and nothing else.

    No in-portal notice: the person cannot log in. Never log the payload, it holds
    a one-time link that sets a password.
    """
    reset = password_reset(event)
    mail = password_reset_mail_for(reset, clock())
    with uow:
        # Idempotent on its own, like the document mail.
        if uow.mails.add_unless_present(mail):
            uow.queue_mail()
            uow.commit()


def deputyship_approved(
    event: IncomingEvent[DeputyshipApproved], uow: NotificationsUnitOfWork, *, clock: Clock, portal_url: str
) -> None:
    """The chamber approved a deputyship: tell the deputy (a notice mail, or for a new employee
    that the invitation to set up access follows)."""
    data = event.payload
    approved = ApprovedDeputyship(
        event_id=event.envelope.id,
        deputy_name=data.deputy_name,
        deputy_email=data.deputy_email,
        represented_name=data.represented_name,
        deputy_has_account=data.deputy_has_account,
    )
    mail = deputy_mail_for(approved, portal_url, clock())
    with uow:
        if uow.mails.add_unless_present(mail):
            uow.queue_mail()
            uow.commit()


def issued_document(event: IncomingEvent[DocumentIssued]) -> IssuedDocument:
    """The facts of the event a notification may use (an allowlist, field by field)."""
    data = event.payload
    recipient = data.recipient
    return IssuedDocument(
        event_id=event.envelope.id,
        document_id=str(data.document_id),
        title=data.title,
        recipient=Recipient(
            kind=RecipientKind(recipient.kind),
            name=recipient.name,
            email=recipient.email,
            company_number=recipient.company_number,
            apprentice_number=recipient.apprentice_number,
        ),
    )


def password_reset(event: IncomingEvent[PasswordResetRequested]) -> PasswordReset:
    data = event.payload
    return PasswordReset(
        event_id=event.envelope.id,
        name=data.name,
        email=data.email,
        reset_url=data.reset_url,
        expires_at=data.expires_at,
        account_id=str(data.account_id),
    )


# -- notices -------------------------------------------------------------------------------


def list_notices(query: ListNotices, uow: NotificationsUnitOfWork) -> Page[ReaderNotice]:
    audience = access.notice_audience(query.principal)
    reader = query.principal.subject
    with uow:
        page = uow.notices.page_visible(audience, reader, unread_only=query.unread_only, request=query.page)
        read = uow.notices.read_times([notice.id for notice in page.items], reader)
    return Page(
        items=tuple(ReaderNotice(notice, read.get(notice.id)) for notice in page.items),
        next_cursor=page.next_cursor,
    )


def count_unread_notices(query: CountUnreadNotices, uow: NotificationsUnitOfWork) -> int:
    audience = access.notice_audience(query.principal)
    if audience.is_empty:
        return 0
    with uow:
        return uow.notices.count_unread(audience, query.principal.subject)


def mark_notice_read(cmd: MarkNoticeRead, uow: NotificationsUnitOfWork, *, clock: Clock) -> ReaderNotice:
    """Mark one of the caller's notices read; someone else's is NotFound (its existence is private)."""
    reader = cmd.principal.subject
    with uow:
        notice = access.visible_notice(cmd.principal, uow.notices.get(cmd.notice_id))
        uow.notices.mark_read(notice.id, reader, clock())
        # The first read time stays: read back what is stored, not what was just offered.
        read_at = uow.notices.read_times([notice.id], reader).get(notice.id)
        uow.commit()
    return ReaderNotice(notice, read_at)


# -- the mail outbox, for operators ----------------------------------------------------------


def list_mails(query: ListMails, uow: NotificationsUnitOfWork) -> list[OutgoingMail]:
    with uow:
        return uow.mails.newest(query.status, query.limit)


def retry_failed_mails(cmd: RetryFailedMails, uow: NotificationsUnitOfWork, *, clock: Clock) -> int:
    """Every failed mail back in the queue; how many."""
    with uow:
        count = uow.mails.requeue_failed(clock())
        if count:
            uow.queue_mail()
        uow.commit()
    return count


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    ListNotices: list_notices,
    CountUnreadNotices: count_unread_notices,
    MarkNoticeRead: mark_notice_read,
    ListMails: list_mails,
    RetryFailedMails: retry_failed_mails,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    DocumentIssued.TYPE: document_issued,
    PasswordResetRequested.TYPE: password_reset_requested,
    DeputyshipApproved.TYPE: deputyship_approved,
}

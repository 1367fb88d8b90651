"""notifications' use cases for identity's account events: the mails about a person's own access,
and removing one-time links from stored mails once they are void.

Merged into the message bus by the bootstrap beside ``handlers``. Like every event
handler here, they only queue mail; the sender sends it afterwards. Never log a
payload: the registration event carries a one-time link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chassis.contracts.identity import (
    AccountLinkUsed,
    AccountLockedOut,
    PasswordChanged,
    RegistrationForExistingAccount,
    RegistrationRequested,
)
from chassis.events.incoming import IncomingEvent
from notifications.domain.account_mails import (
    AccountMailFacts,
    existing_account_mail_for,
    locked_out_mail_for,
    password_changed_mail_for,
    registration_mail_for,
    void_link,
)
from notifications.domain.commands import VoidExpiredLinks
from notifications.domain.model import OutgoingMail
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _queue(uow: NotificationsUnitOfWork, mail: OutgoingMail) -> None:
    with uow:
        # Idempotent on its own, like the document mail.
        if uow.mails.add_unless_present(mail):
            uow.queue_mail()
            uow.commit()


def _facts(
    event: IncomingEvent[Any],
    *,
    link: str | None = None,
    until: datetime | None = None,
    how: str | None = None,
) -> AccountMailFacts:
    """The facts of an account event a mail may use (an allowlist, field by field)."""
    data = event.payload
    return AccountMailFacts(
        event_id=event.envelope.id,
        account_id=str(data.account_id),
        name=data.name,
        email=data.email,
        password_forgotten_url=getattr(data, "password_forgotten_url", None),
        link=link,
        until=until,
        how=how,
    )


def registration_requested(
    event: IncomingEvent[RegistrationRequested], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    data = event.payload
    _queue(uow, registration_mail_for(_facts(event, link=data.confirm_url, until=data.expires_at), clock()))


def registration_for_existing_account(
    event: IncomingEvent[RegistrationForExistingAccount], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    _queue(uow, existing_account_mail_for(_facts(event), clock()))


def account_locked_out(
    event: IncomingEvent[AccountLockedOut], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    _queue(uow, locked_out_mail_for(_facts(event, until=event.payload.locked_until), clock()))


def password_changed(
    event: IncomingEvent[PasswordChanged], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    data = event.payload
    _queue(uow, password_changed_mail_for(_facts(event, how=data.how), data.changed_at, clock()))


def account_link_used(
    event: IncomingEvent[AccountLinkUsed], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    """The link is used or void: the stored mails that carried it (or an older one) lose it."""
    data = event.payload
    now = clock()
    with uow:
        voided = [
            mail
            for mail in uow.mails.with_open_link(str(data.account_id), data.link, expiring_by=data.expires_at)
            if void_link(mail, now)
        ]
        if voided:
            uow.commit()


def void_expired_links(cmd: VoidExpiredLinks, uow: NotificationsUnitOfWork, *, clock: Clock) -> int:
    """The scheduled scrub: stored mails whose link has expired lose it; how many."""
    now = clock()
    with uow:
        voided = [mail for mail in uow.mails.with_expired_links(now, cmd.limit) if void_link(mail, now)]
        uow.commit()
    if voided:
        log.info("removed %d expired one-time links from stored mails", len(voided))
    return len(voided)


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {VoidExpiredLinks: void_expired_links}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    RegistrationRequested.TYPE: registration_requested,
    RegistrationForExistingAccount.TYPE: registration_for_existing_account,
    AccountLockedOut.TYPE: account_locked_out,
    PasswordChanged.TYPE: password_changed,
    AccountLinkUsed.TYPE: account_link_used,
}

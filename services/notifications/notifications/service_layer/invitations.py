"""The invitation mail's event handler; the bootstrap merges ``EVENT_HANDLERS`` into the bus."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chassis.contracts.identity import AccountInvited
from chassis.events.incoming import IncomingEvent
from notifications.domain.invitation_mail import Invitation, invitation_mail_for
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

Clock = Callable[[], datetime]


def account_invited(
    event: IncomingEvent[AccountInvited], uow: NotificationsUnitOfWork, *, clock: Clock
) -> None:
    """Queue the mail with the link that sets the password; an account already active gets none.

    Never log the payload: its link sets a password.
    """
    data = event.payload
    if data.invite_url is None or data.expires_at is None:
        return
    invitation = Invitation(
        event_id=event.envelope.id,
        name=data.name,
        email=data.email,
        invite_url=data.invite_url,
        expires_at=data.expires_at,
        company_number=data.company_number,
    )
    mail = invitation_mail_for(invitation, clock())
    with uow:
        if uow.mails.add_unless_present(mail):
            uow.queue_mail()
            uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {AccountInvited.TYPE: account_invited}

"""Use cases of the access data: invitations (Account erstellen, Zugang einrichten) and the
register's people per company. Same shape as ``handlers``: ``handle(message, uow, *, deps)``,
each owning its unit of work; the bootstrap merges these mappings into the bus.

Other features invite through ``identity.domain.invitations.invite`` inside their own unit of
work; the bus dependency ``invitation_settings`` (``InvitationSettings``) is what it needs
besides ``now``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chassis.contracts.identity import AccountActivated
from chassis.contracts.training import TrainerAdded, TrainerChanged, TrainerData, TrainerRemoved
from chassis.domain import Conflict, NotFound
from chassis.events.incoming import IncomingEvent
from identity.domain import access
from identity.domain.access_commands import AcceptInvitation, CheckInvitation, InviteApprentice, InviteTrainer
from identity.domain.company_access import RegisteredApprentice, RegisteredTrainer
from identity.domain.invitations import (
    InvalidInvitation,
    InvitationRefused,
    InvitationSettings,
    Invitee,
    invite,
)
from identity.domain.model import Account, AccountStatus, PasswordHasher, check_password_policy
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

NO_APPRENTICE = "No such apprentice at this company."
NO_TRAINER = "No such trainer at this company."
EMAIL_TAKEN = "This e-mail address belongs to another account."


# -- Account erstellen --------------------------------------------------------------------------------
def invite_apprentice(
    cmd: InviteApprentice, uow: IdentityUnitOfWork, *, clock: Clock, invitation_settings: InvitationSettings
) -> Account:
    """Send the apprentice's account a link to set its password, to ``cmd.email``.

    The account was prepared when the contract was registered (with the contract's e-mail);
    while it awaits activation, the address the company enters replaces that one.
    """
    access.check_may_invite(cmd.principal, cmd.company_number)
    email = cmd.email.strip().lower()
    now = clock()
    with uow:
        if uow.register.apprentice(cmd.company_number, cmd.apprentice_number) is None:
            raise NotFound(NO_APPRENTICE)
        account = uow.accounts.by_apprentice_number(cmd.apprentice_number, for_update=True)
        if account is None:
            raise NotFound(NO_APPRENTICE)
        if account.status is AccountStatus.PENDING_ACTIVATION and account.email != email:
            other = uow.accounts.by_email(email)
            if other is not None:
                raise Conflict(EMAIL_TAKEN)
            account.email = email
        try:
            account = invite(
                uow,
                Invitee(email=account.email, name=account.name, apprentice_number=cmd.apprentice_number),
                now=now,
                settings=invitation_settings,
                account=account,
            )
        except InvitationRefused as exc:
            raise Conflict(str(exc)) from None
        uow.commit()
    return account


def invite_trainer(
    cmd: InviteTrainer, uow: IdentityUnitOfWork, *, clock: Clock, invitation_settings: InvitationSettings
) -> Account:
    """Create (or find) the trainer's account by ``cmd.email`` and grant it the company's role ``trainer``."""
    access.check_may_invite(cmd.principal, cmd.company_number)
    now = clock()
    with uow:
        trainer = uow.register.trainer(cmd.trainer_id)
        if trainer is None or trainer.removed or trainer.company_number != cmd.company_number:
            raise NotFound(NO_TRAINER)
        try:
            account = invite(
                uow,
                Invitee(
                    email=cmd.email,
                    name=trainer.name,
                    company_number=cmd.company_number,
                    company_role="trainer",
                    trainer_id=trainer.trainer_id,
                ),
                now=now,
                settings=invitation_settings,
            )
        except InvitationRefused as exc:
            raise Conflict(str(exc)) from None
        uow.commit()
    return account


# -- Zugang einrichten ----------------------------------------------------------------------------------
def check_invitation(query: CheckInvitation, uow: IdentityUnitOfWork, *, clock: Clock) -> None:
    with uow:
        invitation = uow.invitations.by_token(query.token)
        if invitation is None:
            raise InvalidInvitation("unknown link")
        invitation.check(uow.accounts.get(invitation.account_id), clock())


def accept_invitation(
    cmd: AcceptInvitation, uow: IdentityUnitOfWork, *, hasher: PasswordHasher, clock: Clock
) -> Account:
    """Set the first password through the invitation link; emits ``AccountActivated``.

    Checked, then hashed (argon2) with no transaction open; applied under the link's row
    lock only if it is still unused, so of two concurrent submissions one wins.
    """
    now = clock()
    check_invitation(CheckInvitation(cmd.token), uow, clock=clock)
    check_password_policy(cmd.new_password)
    password_hash = hasher.hash(cmd.new_password)
    with uow:
        invitation = uow.invitations.by_token(cmd.token, for_update=True)
        if invitation is None:
            raise InvalidInvitation("the link was replaced meanwhile")
        account = invitation.accept(uow.accounts.get(invitation.account_id), password_hash, now)
        uow.emit(
            AccountActivated(
                account_id=account.id,
                apprentice_number=account.apprentice_number,
                email=account.email,
                activated_at=now,
            ),
            subject=str(account.id),
        )
        uow.commit()
    return account


# -- the register's people per company -----------------------------------------------------------------
def remember_apprentice(
    uow: IdentityUnitOfWork, company_number: str, apprentice_number: str, name: str
) -> None:
    """Within the caller's unit of work: the apprentice trains at the company (from a registered contract)."""
    uow.register.add_apprentice(RegisteredApprentice(company_number, apprentice_number, name))


def _trainer_name(data: TrainerData) -> str:
    return f"{data.first_name} {data.last_name}"


def trainer_entered(event: IncomingEvent[TrainerAdded | TrainerChanged], uow: IdentityUnitOfWork) -> None:
    """A trainer was added or changed: identity's copy follows (the payload is the data after)."""
    data = event.payload
    with uow:
        trainer = uow.register.trainer(data.trainer_id)
        if trainer is None:
            uow.register.add_trainer(
                RegisteredTrainer(data.trainer_id, data.company_number, _trainer_name(data), data.email)
            )
        else:
            trainer.company_number = data.company_number
            trainer.name = _trainer_name(data)
            trainer.email = data.email
            trainer.removed = False
        uow.commit()


def trainer_removed(event: IncomingEvent[TrainerRemoved], uow: IdentityUnitOfWork) -> None:
    """The trainer left: no more accounts for them by this company (an existing account keeps its
    role until the roles' own rules take it away)."""
    data = event.payload
    with uow:
        trainer = uow.register.trainer(data.trainer_id)
        if trainer is None:
            uow.register.add_trainer(
                RegisteredTrainer(data.trainer_id, data.company_number, _trainer_name(data), data.email, True)
            )
        else:
            trainer.removed = True
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    InviteApprentice: invite_apprentice,
    InviteTrainer: invite_trainer,
    AcceptInvitation: accept_invitation,
    CheckInvitation: check_invitation,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    TrainerAdded.TYPE: trainer_entered,
    TrainerChanged.TYPE: trainer_entered,
    TrainerRemoved.TYPE: trainer_removed,
}

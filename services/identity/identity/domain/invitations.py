"""Invitations: an account created for a person by e-mail, whose password the person sets through a link.

A company's Administrator or Verwalter creates accounts for its apprentices and trainers
("Account erstellen"); the roles of other features (deputies without an account) invite the
same way. The link carries a random token (256 bits) of which only the SHA-256 is kept: it
cannot be guessed from its hash and must be found by it. It expires, works once, and a new
invitation of the same account replaces the earlier link.

``invite`` is the one entry point: it runs inside the caller's unit of work and does not
commit, so any handler can create an account and grant a role in its own transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chassis.contracts.identity import AccountInvited
from chassis.messages import IntegrationEvent
from chassis.principal import COMPANY_ROLES
from identity.domain.model import Account, AccountStatus, IdentityError


class InvalidInvitation(IdentityError):
    """The link is unknown, used, replaced or expired, or its account is no longer waiting for it."""


def invitation_token_hash(token: str) -> str:
    """SHA-256: the token has 256 random bits (see ``password_reset_token_hash``)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Invitation:
    """The one open invitation link of an account; only the token's hash is kept."""

    token_hash: str
    account_id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, account_id: uuid.UUID, now: datetime, valid_for: timedelta) -> tuple[Invitation, str]:
        """A new invitation and its plain token (sent once, in the mail; not stored)."""
        token = secrets.token_urlsafe(32)
        return cls(invitation_token_hash(token), account_id, now, now + valid_for), token

    def check(self, account: Account | None, now: datetime) -> Account:
        """The account the link may still set a password for; ``InvalidInvitation`` otherwise."""
        if (
            account is None
            or account.id != self.account_id
            or self.used_at is not None
            or now >= self.expires_at
            or account.status is not AccountStatus.PENDING_ACTIVATION
        ):
            raise InvalidInvitation("the link cannot set a password")
        return account

    def accept(self, account: Account | None, password_hash: str, now: datetime) -> Account:
        """Set the first password (hashed beforehand, outside any transaction); the link is used up.

        A letter's activation code the account may still hold is void from now on: the
        account is active, and ``verify_activation`` refuses a code of an active account.
        """
        account = self.check(account, now)
        self.used_at = now
        account.password_hash = password_hash
        account.status = AccountStatus.ACTIVE
        account.activated_at = now
        account.failed_logins = 0
        account.locked_until = None
        return account


class Invitations(Protocol):
    """The repository port ``invite`` needs (the SQL one is ``adapters.invitations``)."""

    def add(self, invitation: Invitation) -> None: ...

    def replace_open(self, account_id: uuid.UUID) -> None:
        """Void the account's open links: only the newest invitation works."""
        ...


class Accounts(Protocol):
    def by_email(self, email: str, *, for_update: bool = False) -> Account | None: ...

    def add(self, account: Account) -> None: ...


class InvitingUnitOfWork(Protocol):
    """What ``invite`` uses of the caller's unit of work."""

    @property
    def accounts(self) -> Accounts: ...

    @property
    def invitations(self) -> Invitations: ...

    def emit(self, event: IntegrationEvent, *, subject: str) -> object: ...


@dataclass(frozen=True)
class InvitationSettings:
    """Bound by the bootstrap: how long a link lives and where it points (``link_prefix + token``)."""

    valid_for: timedelta
    link_prefix: str


@dataclass(frozen=True)
class Invitee:
    """Whom to invite, and what for.

    ``company_role`` (admin, manager or trainer) is granted for ``company_number`` at once;
    ``apprentice_number`` / ``trainer_id`` name the register's person the account is for
    (training-records shows the account's state next to them).
    """

    email: str
    name: str
    company_number: str | None = None
    company_role: str | None = None
    apprentice_number: str | None = None
    trainer_id: uuid.UUID | None = None


class InvitationRefused(IdentityError):
    """The account cannot take this invitation (e.g. it is locked, or holds another Azubinummer)."""


def grant_company_role(account: Account, company_number: str, role: str) -> None:
    if role not in COMPANY_ROLES:
        raise ValueError(f"unknown company role {role!r}")
    held = account.company_roles.get(company_number, [])
    if role not in held:
        account.company_roles = {**account.company_roles, company_number: sorted([*held, role])}


def invite(
    uow: InvitingUnitOfWork,
    invitee: Invitee,
    *,
    now: datetime,
    settings: InvitationSettings,
    account: Account | None = None,
) -> Account:
    """Create (or find) the invitee's account, grant the role and send a link; emits ``AccountInvited``.

    Runs inside the caller's open unit of work and does not commit. ``account``: the account
    to invite when the caller has already found it (e.g. an apprentice's pending account by
    its Azubinummer); otherwise the account with ``invitee.email``, or a new one.

    - no account: a new one awaiting its password, with a fresh link;
    - an account awaiting activation: keeps what it has, a fresh link replaces the earlier one;
    - an active account: gets the role; no link (the person logs in as before);
    - a locked account: ``InvitationRefused``.
    """
    email = invitee.email.strip().lower()
    if account is None:
        account = uow.accounts.by_email(email, for_update=True)
    if account is None:
        account = Account(id=uuid.uuid4(), email=email, name=invitee.name, created_at=now)
        uow.accounts.add(account)
    if account.status is AccountStatus.LOCKED:
        raise InvitationRefused("the account is locked")
    if invitee.apprentice_number is not None and account.apprentice_number not in (
        None,
        invitee.apprentice_number,
    ):
        raise InvitationRefused("the account belongs to another apprentice")
    if invitee.company_number is not None and invitee.company_role is not None:
        grant_company_role(account, invitee.company_number, invitee.company_role)
    invite_url: str | None = None
    expires_at: datetime | None = None
    if account.status is AccountStatus.PENDING_ACTIVATION:
        uow.invitations.replace_open(account.id)
        invitation, token = Invitation.issue(account.id, now, settings.valid_for)
        uow.invitations.add(invitation)
        invite_url, expires_at = settings.link_prefix + token, invitation.expires_at
    uow.emit(
        AccountInvited(
            account_id=account.id,
            email=account.email,
            name=account.name,
            account_status="invited" if invite_url is not None else "active",
            invite_url=invite_url,
            expires_at=expires_at,
            company_number=invitee.company_number,
            company_role=invitee.company_role,
            apprentice_number=invitee.apprentice_number or account.apprentice_number,
            trainer_id=invitee.trainer_id,
        ),
        subject=str(account.id),
    )
    return account


__all__ = [
    "InvalidInvitation",
    "Invitation",
    "InvitationRefused",
    "InvitationSettings",
    "Invitee",
    "grant_company_role",
    "invitation_token_hash",
    "invite",
]

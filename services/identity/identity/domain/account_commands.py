"""Commands and queries of self-registration, the chamber's unlock and the audit log.

Kept apart from ``commands.py`` so that each feature's messages sit together.
Secrets (passwords, tokens) are kept out of every repr.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chassis.messages import Command, Query
from chassis.pagination import PageRequest
from chassis.principal import Principal
from identity.domain.audit import AuditFilter


@dataclass(frozen=True)
class Register(Command):
    """Register with name, e-mail and password; a confirmation link (or a notice) is mailed."""

    name: str
    email: str
    password: str = field(repr=False)
    client: str | None = None


@dataclass(frozen=True)
class ConfirmRegistration(Command):
    """Confirm through the mailed link, with the password chosen at registration."""

    token: str = field(repr=False)
    password: str = field(repr=False)


@dataclass(frozen=True)
class ResendRegistrationLink(Command):
    """A new confirmation link for ``email``, if it has an unconfirmed registration
    (an existing account is told it exists; an unknown address gets nothing)."""

    email: str


@dataclass(frozen=True)
class CheckRegistrationLink(Query):
    """Raises ``InvalidRegistrationLink`` or ``RegistrationLinkExpired`` unless the link can confirm."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class FindAccountLock(Query):
    """The chamber looks an account up by e-mail address or Azubinummer, to see its lock."""

    principal: Principal
    login: str


@dataclass(frozen=True)
class UnlockAccount(Command):
    """The chamber lifts an account's lockout after failed logins."""

    principal: Principal
    account_id: uuid.UUID


@dataclass(frozen=True)
class ListAuditRecords(Query):
    """The audit log, newest first, for chamber administrators."""

    principal: Principal
    filter: AuditFilter
    page: PageRequest

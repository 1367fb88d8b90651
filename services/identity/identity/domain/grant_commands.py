"""Commands and queries of roles, service rights, deputyships and contexts (service_layer/grants.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chassis.messages import Command, Query
from chassis.pagination import PageRequest
from chassis.principal import Principal


# -- company roles, service rights and services ------------------------------------------------
@dataclass(frozen=True)
class ChangeCompanyGrant(Command):
    """Grant (``grant=True``) or revoke a company role or a service right of an account.

    ``kind`` is ``role`` (admin, manager, trainer) or ``right`` (exam_registration).
    """

    principal: Principal
    company_number: str
    account_id: uuid.UUID
    kind: str
    name: str
    grant: bool


@dataclass(frozen=True)
class GrantCompanyRoleByEmail(Command):
    """An Administrator gives an existing account (named by e-mail) a role at the company."""

    principal: Principal
    company_number: str
    email: str
    role: str


@dataclass(frozen=True)
class SwitchCompanyService(Command):
    """An Administrator switches one of the company's services on or off."""

    principal: Principal
    company_number: str
    service: str
    on: bool


@dataclass(frozen=True)
class ChangeChamberRole(Command):
    """A chamber administrator grants or revokes a chamber role."""

    principal: Principal
    account_id: uuid.UUID
    role: str
    grant: bool


@dataclass(frozen=True)
class ListCompanyAccounts(Query):
    """The company's accounts with their roles and rights, and the services it switched on."""

    principal: Principal
    company_number: str
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(frozen=True)
class ListChamberStaff(Query):
    principal: Principal
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(frozen=True)
class FindAccountByEmail(Query):
    """A chamber administrator looks up an account to give it a chamber role."""

    principal: Principal
    email: str


@dataclass(frozen=True)
class AdministrableCompanies(Query):
    """Welche Firmen darf ich administrieren? The companies where the caller is Administrator."""

    principal: Principal


# -- deputyships ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NameDeputy(Command):
    """Name a deputy for oneself (``company_number`` None) or for a company (its Administrator).

    ``new_employee``: "Firmenmitarbeiter/in als Vertreter/in hinterlegen", a person without an account.
    """

    principal: Principal
    deputy_email: str
    deputy_name: str = ""
    company_number: str | None = None
    company_roles: tuple[str, ...] = ("manager",)
    new_employee: bool = False


@dataclass(frozen=True)
class DecideDeputyship(Command):
    principal: Principal
    deputyship_id: uuid.UUID
    approve: bool


@dataclass(frozen=True)
class RemoveDeputyship(Command):
    principal: Principal
    deputyship_id: uuid.UUID


@dataclass(frozen=True)
class ListOpenDeputyships(Query):
    """The chamber's open requests, oldest first."""

    principal: Principal
    page: PageRequest = field(default_factory=PageRequest)


@dataclass(frozen=True)
class ListOwnDeputyships(Query):
    """The deputy overview: whom the caller (or their companies) named, and for whom they may act."""

    principal: Principal


# -- contexts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListContexts(Query):
    """The contexts the caller may switch to (roles at companies, person roles, deputyships)."""

    principal: Principal


@dataclass(frozen=True)
class ContextClaims(Query):
    """The claims of a token for ``account_id`` narrowed to ``context`` (the token exchange)."""

    account_id: uuid.UUID
    context: str


@dataclass(frozen=True)
class RecordContextSwitch(Command):
    """Audit: the account started (or, ``ended``, left) acting in a context."""

    account_id: uuid.UUID
    context: str
    client_id: str = ""
    ended: bool = False

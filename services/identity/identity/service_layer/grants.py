"""Use cases of roles, service rights, deputyships, head offices' reach and active contexts.

Same signatures as ``handlers.py`` (``handle(message, uow, *, deps)``, each owning its unit of
work); the bootstrap merges ``COMMAND_HANDLERS`` and ``EVENT_HANDLERS``. Every change of a
grant, every decision on a deputyship and every start of acting for someone is written to the
audit log (``uow.audit.record``) in the same unit of work as the change.

Changes take effect in the person's next access token: tokens live 5 minutes and the portal
refreshes them (and the narrowed token of the active context) when they expire, so a grant or
a revocation reaches every service within 5 minutes, and at once in identity's own API.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chassis.contracts.identity import (
    DeputyshipApproved,
    DeputyshipData,
    DeputyshipRejected,
    DeputyshipRemoved,
    DeputyshipRequested,
)
from chassis.contracts.training import BranchAssigned, BranchReachChanged, BranchRemoved
from chassis.domain import NotFound, RuleViolation
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page
from chassis.principal import Principal
from identity.domain import access, contexts, grants
from identity.domain.audit import AuditKind
from identity.domain.contexts import TokenContext
from identity.domain.deputies import Deputyship, RepresentedKind
from identity.domain.grant_commands import (
    AdministrableCompanies,
    ChangeChamberRole,
    ChangeCompanyGrant,
    ContextClaims,
    DecideDeputyship,
    FindAccountByEmail,
    GrantCompanyRoleByEmail,
    ListChamberStaff,
    ListCompanyAccounts,
    ListContexts,
    ListOpenDeputyships,
    ListOwnDeputyships,
    NameDeputy,
    RecordContextSwitch,
    RemoveDeputyship,
    SwitchCompanyService,
)
from identity.domain.invitations import InvitationSettings, Invitee, invite
from identity.domain.model import Account, AccountStatus
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _caller(principal: Principal) -> uuid.UUID:
    return access.own_account_id(principal)


def _grant_changed(
    uow: IdentityUnitOfWork, principal: Principal, account: Account, granted: bool, details: dict[str, str]
) -> None:
    """Audit a grant or revocation and commit it with the change."""
    kind = AuditKind.ROLE_GRANTED if granted else AuditKind.ROLE_REVOKED
    uow.audit.record(kind, account.id, actor_id=_caller(principal), details=details)
    uow.commit()


# -- company roles, service rights and services --------------------------------------------------
@dataclass(frozen=True)
class CompanyAccounts:
    company_number: str
    services: frozenset[str]
    accounts: Page[Account]


def change_company_grant(cmd: ChangeCompanyGrant, uow: IdentityUnitOfWork) -> Account:
    """Change a role or right of an account at the company; only accounts that already hold a
    role there are found by id (others are added by e-mail): 404 tells nothing of the rest."""
    access.may_administer_company(cmd.principal, cmd.company_number)
    if cmd.kind not in ("role", "right"):
        raise RuleViolation({"kind": "Either role or right."})
    with uow:
        account = uow.accounts.get(cmd.account_id)
        if account is None or cmd.company_number not in account.company_roles:
            raise NotFound("No such account at this company.")
        _change_company_grant(cmd, uow, account)
    return account


def _change_company_grant(cmd: ChangeCompanyGrant, uow: IdentityUnitOfWork, account: Account) -> None:
    """Inside the caller's unit of work; commits if something changed."""
    if account.status is not AccountStatus.ACTIVE and cmd.grant:
        raise RuleViolation({"account_id": "Only an active account gets a role or right."})
    if cmd.kind == "role":
        if cmd.grant:
            changed = grants.grant_company_role(account, cmd.company_number, cmd.name)
        else:
            administrators = uow.account_grants.administrators(cmd.company_number)
            changed = grants.revoke_company_role(
                account, cmd.company_number, cmd.name, administrators=administrators
            )
    elif cmd.grant:
        switched_on = uow.company_services.switched_on(cmd.company_number)
        changed = grants.grant_service_right(account, cmd.company_number, cmd.name, switched_on=switched_on)
    else:
        changed = grants.revoke_service_right(account, cmd.company_number, cmd.name)
    if changed:
        _grant_changed(
            uow, cmd.principal, account, cmd.grant, {"company_number": cmd.company_number, cmd.kind: cmd.name}
        )


def grant_company_role_by_email(cmd: GrantCompanyRoleByEmail, uow: IdentityUnitOfWork) -> Account:
    """Add an existing account (by e-mail) to the company with a role."""
    access.may_administer_company(cmd.principal, cmd.company_number)
    with uow:
        account = uow.accounts.by_email(cmd.email, for_update=True)
        if account is None or account.status is not AccountStatus.ACTIVE:
            raise RuleViolation({"email": "No active account has this e-mail address."})
        change = ChangeCompanyGrant(cmd.principal, cmd.company_number, account.id, "role", cmd.role, True)
        _change_company_grant(change, uow, account)
    return account


def switch_company_service(
    cmd: SwitchCompanyService, uow: IdentityUnitOfWork, *, clock: Clock
) -> frozenset[str]:
    access.may_administer_company(cmd.principal, cmd.company_number)
    grants.check_service_right(cmd.service)
    with uow:
        current = uow.company_services.find_one(cmd.company_number, cmd.service)
        if cmd.on and current is None:
            uow.company_services.add(
                grants.CompanyService(cmd.company_number, cmd.service, cmd.principal.subject, clock())
            )
        elif not cmd.on and current is not None:
            uow.company_services.delete(current)
            # Switched off: the right ends for everybody at the company.
            for account in uow.account_grants.all_members(cmd.company_number):
                grants.withdraw_service(account, cmd.company_number, cmd.service)
        else:
            return uow.company_services.switched_on(cmd.company_number)
        uow.audit.record(
            AuditKind.SERVICE_SWITCHED_ON if cmd.on else AuditKind.SERVICE_SWITCHED_OFF,
            None,
            actor_id=_caller(cmd.principal),
            details={"company_number": cmd.company_number, "service": cmd.service},
        )
        uow.commit()
        return uow.company_services.switched_on(cmd.company_number)


def list_company_accounts(query: ListCompanyAccounts, uow: IdentityUnitOfWork) -> CompanyAccounts:
    access.may_administer_company(query.principal, query.company_number)
    with uow:
        return CompanyAccounts(
            query.company_number,
            uow.company_services.switched_on(query.company_number),
            uow.account_grants.members(query.company_number, query.page),
        )


def administrable_companies(query: AdministrableCompanies, uow: IdentityUnitOfWork) -> list[str]:
    """Welche Firmen darf ich administrieren? From the account's grants now, not the token's."""
    account_id = access.own_account_id(query.principal)
    if query.principal.is_acting_for_someone:
        return []
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            return []
        return sorted(number for number, roles in account.company_roles.items() if grants.ADMIN in roles)


# -- chamber roles ---------------------------------------------------------------------------------
def change_chamber_role(cmd: ChangeChamberRole, uow: IdentityUnitOfWork) -> Account:
    access.may_administer_chamber_roles(cmd.principal)
    with uow:
        account = uow.accounts.get(cmd.account_id)
        if account is None:
            raise NotFound("No such account.")
        if cmd.grant:
            if account.status is not AccountStatus.ACTIVE:
                raise RuleViolation({"account_id": "Only an active account gets a chamber role."})
            changed = grants.grant_chamber_role(account, cmd.role)
        else:
            changed = grants.revoke_chamber_role(
                account, cmd.role, chamber_admins=uow.account_grants.chamber_admins()
            )
        if changed:
            _grant_changed(uow, cmd.principal, account, cmd.grant, {"chamber_role": cmd.role})
    return account


def list_chamber_staff(query: ListChamberStaff, uow: IdentityUnitOfWork) -> Page[Account]:
    access.may_administer_chamber_roles(query.principal)
    with uow:
        return uow.account_grants.chamber_staff(query.page)


def find_account_by_email(query: FindAccountByEmail, uow: IdentityUnitOfWork) -> Account:
    access.may_administer_chamber_roles(query.principal)
    with uow:
        account = uow.accounts.by_email(query.email)
    if account is None:
        raise NotFound("No account has this e-mail address.")
    return account


# -- deputyships ---------------------------------------------------------------------------------------
def _payload(uow: IdentityUnitOfWork, deputyship: Deputyship, at: datetime) -> dict[str, Any]:
    """The fields every deputyship event carries (``DeputyshipV1``)."""
    return {
        "deputyship_id": deputyship.id,
        "kind": deputyship.kind.value,
        "represented_account_id": deputyship.represented_account_id,
        "company_number": deputyship.company_number,
        "represented_name": _represented_name(uow, deputyship),
        "deputy_email": deputyship.deputy_email,
        "deputy_name": deputyship.deputy_name,
        "deputy_has_account": deputyship.deputy_account_id is not None,
        "at": at,
    }


def _represented_name(uow: IdentityUnitOfWork, deputyship: Deputyship) -> str:
    if deputyship.kind is RepresentedKind.COMPANY:
        return f"Betrieb {deputyship.company_number}"
    person = uow.accounts.get(deputyship.represented_account_id)
    return person.name if person is not None else "unbekannt"


def _deputy_step(
    uow: IdentityUnitOfWork,
    event: DeputyshipData,
    audit_kind: AuditKind,
    deputyship: Deputyship,
    caller: uuid.UUID,
) -> None:
    """One step of a deputyship: its event and its audit record, committed with the change."""
    uow.emit(event, subject=str(deputyship.id))
    uow.audit.record(
        audit_kind,
        deputyship.deputy_account_id,
        actor_id=caller,
        on_behalf_of=deputyship.represented_account_id,
        details={"for": deputyship.represented, "deputyship": str(deputyship.id)},
    )
    uow.commit()


def name_deputy(cmd: NameDeputy, uow: IdentityUnitOfWork, *, clock: Clock) -> Deputyship:
    """Request a deputyship; it waits for the chamber's approval (no acting before)."""
    access.may_name_deputy(cmd.principal, cmd.company_number)
    caller = _caller(cmd.principal)
    now = clock()
    if cmd.new_employee and cmd.company_number is None:
        raise RuleViolation({"new_employee": "Only a company names an employee without an account."})
    with uow:
        existing = uow.accounts.by_email(cmd.deputy_email)
        if cmd.new_employee:
            if existing is not None:
                raise RuleViolation(
                    {"deputy_email": "This person has an account already; name them by e-mail."}
                )
            deputy_id, deputy_name = None, cmd.deputy_name
        else:
            if existing is None or existing.status is not AccountStatus.ACTIVE:
                raise RuleViolation({"deputy_email": "No active account has this e-mail address."})
            deputy_id, deputy_name = existing.id, existing.name
        deputyship = Deputyship.request(
            kind=RepresentedKind.COMPANY if cmd.company_number else RepresentedKind.PERSON,
            deputy_email=cmd.deputy_email,
            deputy_name=deputy_name,
            requested_by=caller,
            now=now,
            represented_account_id=None if cmd.company_number else caller,
            company_number=cmd.company_number,
            deputy_account_id=deputy_id,
            company_roles=list(cmd.company_roles),
        )
        uow.deputyships.add(deputyship)
        requested = DeputyshipRequested(**_payload(uow, deputyship, now))
        _deputy_step(uow, requested, AuditKind.DEPUTY_REQUESTED, deputyship, caller)
    return deputyship


def decide_deputyship(
    cmd: DecideDeputyship,
    uow: IdentityUnitOfWork,
    *,
    clock: Clock,
    invitation_settings: InvitationSettings,
) -> Deputyship:
    """The chamber approves or rejects; only an approved deputy is told and may act.

    A company's employee without an account ("Firmenmitarbeiter/in als Vertreter/in
    hinterlegen") gets it now, by invitation: an account awaiting its password and the link
    to set it (``identity.account.invited``); the approval mail tells them the link follows.
    """
    access.may_decide_deputyships(cmd.principal)
    caller = _caller(cmd.principal)
    now = clock()
    with uow:
        deputyship = uow.deputyships.for_update(cmd.deputyship_id)
        if deputyship is None:
            raise NotFound("No such deputyship.")
        if cmd.approve:
            deputyship.approve(caller, now)
            approved = DeputyshipApproved(**_payload(uow, deputyship, now))
            if deputyship.deputy_account_id is None:
                deputy = invite(
                    uow,
                    Invitee(email=deputyship.deputy_email, name=deputyship.deputy_name),
                    now=now,
                    settings=invitation_settings,
                )
                deputyship.deputy_account_id = deputy.id
            _deputy_step(uow, approved, AuditKind.DEPUTY_APPROVED, deputyship, caller)
        else:
            deputyship.reject(caller, now)
            rejected = DeputyshipRejected(**_payload(uow, deputyship, now))
            _deputy_step(uow, rejected, AuditKind.DEPUTY_REJECTED, deputyship, caller)
    return deputyship


def remove_deputyship(cmd: RemoveDeputyship, uow: IdentityUnitOfWork, *, clock: Clock) -> Deputyship:
    caller = _caller(cmd.principal)
    now = clock()
    with uow:
        deputyship = access.may_manage_deputyship(
            cmd.principal, uow.deputyships.for_update(cmd.deputyship_id)
        )
        deputyship.remove(caller, now)
        removed = DeputyshipRemoved(**_payload(uow, deputyship, now))
        _deputy_step(uow, removed, AuditKind.DEPUTY_REMOVED, deputyship, caller)
    return deputyship


def list_open_deputyships(query: ListOpenDeputyships, uow: IdentityUnitOfWork) -> Page[Deputyship]:
    access.may_decide_deputyships(query.principal)
    with uow:
        return uow.deputyships.open_requests(query.page)


@dataclass(frozen=True)
class DeputyOverview:
    """Whom the caller (or a company they administer) named, and for whom the caller may act."""

    named: list[Deputyship]
    acting_for: list[Deputyship]


def list_own_deputyships(query: ListOwnDeputyships, uow: IdentityUnitOfWork) -> DeputyOverview:
    account_id = access.own_account_id(query.principal)
    administered = sorted(n for n, r in query.principal.company_roles.items() if "admin" in r)
    if query.principal.is_acting_for_someone:
        return DeputyOverview([], [])
    with uow:
        found = uow.deputyships.involving(account_id, administered)
    return DeputyOverview(
        named=[
            d
            for d in found
            if d.represented_account_id == account_id
            or (d.company_number is not None and d.company_number in administered)
        ],
        acting_for=[d for d in found if d.lets_act(account_id)],
    )


# -- contexts and the token exchange ------------------------------------------------------------
def _reach_of(uow: IdentityUnitOfWork, account: Account) -> contexts.Reach:
    return uow.company_structure.reach(sorted(account.company_roles))


def list_contexts(query: ListContexts, uow: IdentityUnitOfWork) -> list[TokenContext]:
    account_id = access.own_account_id(query.principal)
    with uow:
        account = uow.accounts.get(account_id)
        if account is None:
            return []
        deputyships = [d for d in uow.deputyships.involving(account_id, []) if d.lets_act(account_id)]
        names = {
            str(d.represented_account_id): _represented_name(uow, d)
            for d in deputyships
            if d.kind is RepresentedKind.PERSON
        }
        return contexts.available_contexts(account, _reach_of(uow, account), deputyships, names)


def context_claims(query: ContextClaims, uow: IdentityUnitOfWork) -> dict[str, Any]:
    """The claims of a token narrowed to ``query.context``, read from the grants as they are now."""
    with uow:
        account = uow.accounts.get(query.account_id)
        if account is None or account.status is not AccountStatus.ACTIVE:
            raise NotFound("No such account.")
        deputyship_id = contexts.deputyship_id(query.context)
        if deputyship_id is None:
            return contexts.narrowed_claims(account, query.context, reach=_reach_of(uow, account))
        deputyship = uow.deputyships.get(deputyship_id)
        represented = None
        if deputyship is not None and deputyship.represented_account_id is not None:
            represented = uow.accounts.get(deputyship.represented_account_id)
            if represented is not None and represented.status is not AccountStatus.ACTIVE:
                represented = None
        reach = _reach_of(uow, represented) if represented is not None else {}
        return contexts.narrowed_claims(
            account, query.context, reach=reach, deputyship=deputyship, represented=represented
        )


def full_token_claims(account: Account, uow: IdentityUnitOfWork) -> dict[str, Any]:
    """The claims of the login's token: everything the account holds, with reach."""
    return contexts.full_claims(account, _reach_of(uow, account))


def record_context_switch(cmd: RecordContextSwitch, uow: IdentityUnitOfWork) -> None:
    """Audit: acting for someone started or ended (a ``deputy:`` context), or a context was chosen."""
    with uow:
        audit_context_switch(uow, cmd)
        uow.commit()


def audit_context_switch(uow: IdentityUnitOfWork, switch: RecordContextSwitch) -> None:
    """The audit record of a context switch, in ``uow``'s open transaction (not committed here).

    The token endpoint records it in the OAuth request's own unit of work, so that the record
    commits with the token it concerns: a second transaction beside the request's would wait
    for it (SQLite allows one writer) and could outlive a request that fails.
    """
    deputyship_id = contexts.deputyship_id(switch.context)
    deputyship = uow.deputyships.get(deputyship_id) if deputyship_id else None
    if deputyship is not None:
        kind = AuditKind.ACTING_FOR_ENDED if switch.ended else AuditKind.ACTING_FOR_STARTED
    else:
        kind = AuditKind.CONTEXT_LEFT if switch.ended else AuditKind.CONTEXT_SWITCHED
    uow.audit.record(
        kind,
        switch.account_id,
        actor_id=switch.account_id,
        on_behalf_of=deputyship.represented_account_id if deputyship is not None else None,
        details={
            "context": switch.context,
            "client": switch.client_id,
            "for": deputyship.represented if deputyship is not None else None,
        },
    )


# -- the register's head offices and branches -----------------------------------------------------------
def branch_assigned(event: IncomingEvent[BranchAssigned], uow: IdentityUnitOfWork) -> None:
    with uow:
        uow.company_structure.assign_branch(event.payload.branch_number, event.payload.head_office_number)
        uow.commit()


def branch_removed(event: IncomingEvent[BranchRemoved], uow: IdentityUnitOfWork) -> None:
    with uow:
        uow.company_structure.remove_branch(event.payload.branch_number, event.payload.head_office_number)
        uow.commit()


def branch_reach_changed(event: IncomingEvent[BranchReachChanged], uow: IdentityUnitOfWork) -> None:
    with uow:
        uow.company_structure.set_reach(event.payload.company_number, event.payload.enabled)
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    ChangeCompanyGrant: change_company_grant,
    GrantCompanyRoleByEmail: grant_company_role_by_email,
    SwitchCompanyService: switch_company_service,
    ListCompanyAccounts: list_company_accounts,
    AdministrableCompanies: administrable_companies,
    ChangeChamberRole: change_chamber_role,
    ListChamberStaff: list_chamber_staff,
    FindAccountByEmail: find_account_by_email,
    NameDeputy: name_deputy,
    DecideDeputyship: decide_deputyship,
    RemoveDeputyship: remove_deputyship,
    ListOpenDeputyships: list_open_deputyships,
    ListOwnDeputyships: list_own_deputyships,
    ListContexts: list_contexts,
    ContextClaims: context_claims,
    RecordContextSwitch: record_context_switch,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    BranchAssigned.TYPE: branch_assigned,
    BranchRemoved.TYPE: branch_removed,
    BranchReachChanged.TYPE: branch_reach_changed,
}

"""Who may see what in identity: the one place its access rules live.

identity's API shows a person their own account; a company's Administrator sees and changes
the company's roles and rights, the chamber's administration the chamber roles, the chamber's
clerks decide deputyships and unlock accounts, its administrators read the audit log. A
company's Administrators and Verwalter create accounts for the company's apprentices and
trainers. Nobody changes permissions while acting for someone.
"""

from __future__ import annotations

import uuid

from chassis.domain import Forbidden, NotFound
from chassis.principal import CHAMBER_ROLES, Principal
from identity.domain.deputies import Deputyship, RepresentedKind
from identity.domain.model import Account

NO_ACCOUNT = "No account for this token."


def own_account_id(principal: Principal) -> uuid.UUID:
    """The account a caller may read: the one their token's subject names."""
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise NotFound(NO_ACCOUNT) from None


def readable_account(principal: Principal, account: Account | None) -> Account:
    """``account`` if ``principal`` may read it; otherwise 404, which tells nothing of others' accounts."""
    if account is None or account.id != own_account_id(principal):
        raise NotFound(NO_ACCOUNT)
    return account


# -- the chamber's tools: account locks and the audit log -------------------------------------
UNLOCKING_ROLES = ("chamber_admin", "chamber_clerk")
AUDIT_READING_ROLES = ("chamber_admin",)


def may_unlock_accounts(principal: Principal) -> None:
    """Chamber administrators and clerks look up account locks and lift them; nobody else."""
    if not principal.has_role(*UNLOCKING_ROLES):
        raise Forbidden("Only the chamber can look up and unlock accounts.")


def may_read_audit_log(principal: Principal) -> None:
    """The audit log is for chamber administrators only."""
    if not principal.has_role(*AUDIT_READING_ROLES):
        raise Forbidden("Only chamber administrators can read the audit log.")


# Who creates accounts for a company's apprentices and trainers (Account erstellen).
COMPANY_ACCOUNT_ROLES = ("admin", "manager")
NO_COMPANY = "No such company."


def check_may_invite(principal: Principal, company_number: str) -> None:
    """The company's Administrators and Verwalter; its trainers and chamber staff learn why
    (403); everyone else learns nothing about the company (404)."""
    if principal.has_company_role(company_number, *COMPANY_ACCOUNT_ROLES):
        return
    if principal.roles & CHAMBER_ROLES or principal.has_company_role(company_number, "trainer"):
        raise Forbidden("Only the company's administrators and Verwalter may create accounts.")
    raise NotFound(NO_COMPANY)


# -- grants and deputyships ------------------------------------------------------------------------
NOT_WHILE_ACTING = "Permissions and deputies are not changed while acting for someone."


def _in_person(principal: Principal) -> None:
    """A deputy acting for someone never changes permissions or deputies (no escalation)."""
    if principal.is_acting_for_someone:
        raise Forbidden(NOT_WHILE_ACTING)


def may_administer_company(principal: Principal, company_number: str) -> None:
    """Only the company's Administrators grant and revoke its roles, rights and services."""
    _in_person(principal)
    if not principal.has_company_role(company_number, "admin"):
        raise Forbidden("Only the company's Administrator may do this.")


def may_administer_chamber_roles(principal: Principal) -> None:
    _in_person(principal)
    if not principal.has_role("chamber_admin"):
        raise Forbidden("Only the chamber's administration may do this.")


def may_decide_deputyships(principal: Principal) -> None:
    _in_person(principal)
    if not principal.has_role("chamber_clerk", "chamber_admin"):
        raise Forbidden("Only the chamber's clerks and administration decide deputyships.")


def may_manage_deputyship(principal: Principal, deputyship: Deputyship | None) -> Deputyship:
    """The represented person, or an Administrator of the represented company; 404 for others."""
    _in_person(principal)
    if deputyship is not None:
        if deputyship.kind is RepresentedKind.COMPANY and deputyship.company_number is not None:
            if principal.has_company_role(deputyship.company_number, "admin"):
                return deputyship
        elif str(deputyship.represented_account_id) == principal.subject:
            return deputyship
    raise NotFound("No such deputyship.")


def may_name_deputy(principal: Principal, company_number: str | None) -> None:
    """Anyone names a deputy for themselves; for a company only its Administrator."""
    _in_person(principal)
    if company_number is not None and not principal.has_company_role(company_number, "admin"):
        raise Forbidden("Only the company's Administrator names deputies for the company.")

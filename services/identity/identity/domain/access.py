"""Who may see what in identity: the one place its access rules live.

identity's API shows a person their own account and nothing else; the chamber
administers accounts through its own tools, not through this API (yet). A company's
Administrators and Verwalter create accounts for the company's apprentices and trainers.
"""

from __future__ import annotations

import uuid

from chassis.domain import Forbidden, NotFound
from chassis.principal import CHAMBER_ROLES, Principal
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

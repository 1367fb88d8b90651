"""Roles and service rights (DESIGN §4): who holds what, and the guard rails of changing it.

Plain Python on the ``Account`` aggregate. Every change assigns a new dict or list (never
mutates one in place), so that the JSON columns behind them see the change.

- Company roles: Administrator (``admin``), Verwalter (``manager``), Ausbilder (``trainer``).
- Service rights (``exam_registration`` = Prüfungsanmeldung) are granted per company apart from
  the roles, even by an Administrator to themselves, and only for a service the company has
  switched on. A person without any role at a company holds no service right there.
- Chamber roles: Sachbearbeitung, Prüfungsorganisation, Administration.
- A company always keeps one Administrator; the chamber always keeps one administrator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chassis.domain import RuleViolation
from chassis.principal import CHAMBER_ROLES, COMPANY_ROLES, SERVICE_RIGHTS
from identity.domain.model import Account

ADMIN = "admin"
CHAMBER_ADMIN = "chamber_admin"

COMPANY_ROLE_LABELS = {"admin": "Administrator/-in", "manager": "Verwalter/-in", "trainer": "Ausbilder/-in"}
SERVICE_RIGHT_LABELS = {"exam_registration": "Prüfungsanmeldung"}
CHAMBER_ROLE_LABELS = {
    "chamber_clerk": "Sachbearbeitung",
    "chamber_exam_organiser": "Prüfungsorganisation",
    "chamber_admin": "Administration",
}
# Person roles that are no grant of anybody's (the register and the exam board give them).
PERSON_ROLE_LABELS = {"apprentice": "Auszubildende/r", "examiner": "Prüfer/-in"}

_COMPANY_NUMBER = re.compile(r"[0-9A-Za-z-]{1,20}")


def check_company_number(company_number: str) -> str:
    if not _COMPANY_NUMBER.fullmatch(company_number):
        raise RuleViolation({"company_number": "Not a company number (Identnummer)."})
    return company_number


def check_company_role(role: str) -> str:
    if role not in COMPANY_ROLES:
        raise RuleViolation({"role": f"Unknown company role; one of {', '.join(sorted(COMPANY_ROLES))}."})
    return role


def check_service_right(right: str) -> str:
    if right not in SERVICE_RIGHTS:
        raise RuleViolation({"right": f"Unknown service right; one of {', '.join(sorted(SERVICE_RIGHTS))}."})
    return right


def check_chamber_role(role: str) -> str:
    if role not in CHAMBER_ROLES:
        raise RuleViolation({"role": f"Unknown chamber role; one of {', '.join(sorted(CHAMBER_ROLES))}."})
    return role


@dataclass
class CompanyService:
    """A service a company has switched on (by one of its Administrators)."""

    company_number: str
    service: str
    switched_on_by: str
    switched_on_at: datetime


# -- company roles ------------------------------------------------------------------------------
def grant_company_role(account: Account, company_number: str, role: str) -> bool:
    """Give ``account`` ``role`` at the company; False if it held it already."""
    check_company_role(role)
    held = account.company_roles.get(company_number, [])
    if role in held:
        return False
    account.company_roles = {**account.company_roles, company_number: sorted({*held, role})}
    return True


def revoke_company_role(account: Account, company_number: str, role: str, *, administrators: int) -> bool:
    """Take ``role`` at the company from ``account``; False if it did not hold it.

    ``administrators``: how many Administrators the company has now. The last one stays,
    so that somebody can still administer the company. Losing the last role at a company
    also ends the service rights held there.
    """
    check_company_role(role)
    held = account.company_roles.get(company_number, [])
    if role not in held:
        return False
    if role == ADMIN and administrators <= 1:
        raise RuleViolation({"role": "The company's last Administrator cannot be removed."})
    remaining = [r for r in held if r != role]
    roles = dict(account.company_roles)
    if remaining:
        roles[company_number] = remaining
    else:
        roles.pop(company_number)
        account.service_rights = {n: r for n, r in account.service_rights.items() if n != company_number}
    account.company_roles = roles
    return True


# -- service rights -----------------------------------------------------------------------------
def grant_service_right(
    account: Account, company_number: str, right: str, *, switched_on: frozenset[str]
) -> bool:
    """Give ``account`` the service right at the company; False if it held it already."""
    check_service_right(right)
    if right not in switched_on:
        raise RuleViolation({"right": "The company has not switched this service on."})
    if not account.company_roles.get(company_number):
        raise RuleViolation({"account_id": "The person holds no role at the company."})
    held = account.service_rights.get(company_number, [])
    if right in held:
        return False
    account.service_rights = {**account.service_rights, company_number: sorted({*held, right})}
    return True


def revoke_service_right(account: Account, company_number: str, right: str) -> bool:
    check_service_right(right)
    held = account.service_rights.get(company_number, [])
    if right not in held:
        return False
    remaining = [r for r in held if r != right]
    rights = dict(account.service_rights)
    if remaining:
        rights[company_number] = remaining
    else:
        rights.pop(company_number)
    account.service_rights = rights
    return True


def withdraw_service(account: Account, company_number: str, service: str) -> bool:
    """The company switched ``service`` off: the right to it ends for everybody there."""
    if service not in account.service_rights.get(company_number, []):
        return False
    return revoke_service_right(account, company_number, service)


# -- chamber roles --------------------------------------------------------------------------------
def grant_chamber_role(account: Account, role: str) -> bool:
    check_chamber_role(role)
    if role in account.roles:
        return False
    account.roles = sorted({*account.roles, role})
    return True


def revoke_chamber_role(account: Account, role: str, *, chamber_admins: int) -> bool:
    check_chamber_role(role)
    if role not in account.roles:
        return False
    if role == CHAMBER_ADMIN and chamber_admins <= 1:
        raise RuleViolation({"role": "The chamber's last administrator cannot be removed."})
    account.roles = [r for r in account.roles if r != role]
    return True

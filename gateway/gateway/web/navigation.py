"""The main navigation, by role: only pages the user may use and that exist."""

from __future__ import annotations

from dataclasses import dataclass

from chassis.auth import Principal

CLERK_ROLES = ("chamber_clerk", "chamber_admin")
# Company roles that keep the company's trainers and Ausbildungsatlas entries (training-records'
# COMPANY_MAINTAINER_ROLES): Administrator and Verwalter.
MAINTAINER_ROLES = ("admin", "manager")


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


def is_clerk(user: Principal) -> bool:
    return user.has_role(*CLERK_ROLES)


def is_company_user(user: Principal) -> bool:
    return bool(user.company_numbers)


def maintains(user: Principal, company_number: str) -> bool:
    """An administrator or Verwalter of this company (its branches: training-records knows the reach)."""
    return user.has_company_role(company_number, *MAINTAINER_ROLES)


def is_company_maintainer(user: Principal) -> bool:
    return any(maintains(user, number) for number in user.company_numbers)


def is_apprentice(user: Principal) -> bool:
    return user.has_role("apprentice") or bool(user.apprentice_number)


def administers_companies(user: Principal) -> bool:
    """An Administrator of a company, in person (a deputy changes no permissions)."""
    return not user.is_acting_for_someone and any(
        user.has_company_role(n, "admin") for n in user.company_numbers
    )


def is_chamber_admin(user: Principal) -> bool:
    return not user.is_acting_for_someone and user.has_role("chamber_admin")


def may_name_deputies(user: Principal) -> bool:
    """Everybody in person names deputies for themselves (and Administrators for the company)."""
    return not user.is_acting_for_someone


def navigation(user: Principal | None, *, mailbox: bool) -> list[NavItem]:
    items: list[NavItem] = []
    if user is None:
        # The public search needs no login.
        items.append(NavItem("Ausbildungsatlas", "atlas.search"))
    else:
        items.append(NavItem("Übersicht", "pages.index"))
        if is_clerk(user) or is_company_user(user):
            items.append(NavItem("Ausbildungsverhältnisse", "contracts.index"))
        if is_clerk(user):
            items.append(NavItem("Ausbildungsvertrag eintragen", "contracts.new"))
            items.append(NavItem("Datenübermittlung", "imports.index"))
            items.append(NavItem("Zugangssperren", "accounts.locks"))
            items.append(NavItem("Zugangsdaten", "access.chamber"))
        if is_company_maintainer(user):
            items.append(NavItem("Ausbilder/-in", "trainers.index"))
            items.append(NavItem("Ausbildungsatlas", "atlas.entries"))
        if is_company_user(user):
            items.append(NavItem("Profil – Dokumente", "documents.index"))
        elif is_apprentice(user):
            items.append(NavItem("Dokumente", "documents.index"))
        if administers_companies(user):
            items.append(NavItem("Berechtigungen verwalten", "permissions.manage"))
        if is_clerk(user) and not user.is_acting_for_someone:
            items.append(NavItem("Vertretungen bestätigen", "permissions.open_deputyships"))
        if is_chamber_admin(user):
            items.append(NavItem("Rollen der Kammer", "permissions.chamber_roles"))
        if user.has_role("chamber_admin"):
            items.append(NavItem("Protokoll", "accounts.audit"))
        if may_name_deputies(user):
            items.append(NavItem("Profil – Vertretung", "permissions.deputies"))
        items.append(NavItem("Profil – Berechtigungen", "permissions.contexts"))
    if mailbox:
        # The embedded mode's SMTP sink: a development aid, never configured in production.
        items.append(NavItem("Postfach (Entwicklung)", "mailbox.index"))
    return items

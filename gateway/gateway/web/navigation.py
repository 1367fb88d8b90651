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
            items.append(NavItem("Zugangsdaten", "access.chamber"))
        if is_company_maintainer(user):
            items.append(NavItem("Ausbilder/-in", "trainers.index"))
            items.append(NavItem("Ausbildungsatlas", "atlas.entries"))
        if is_company_user(user):
            items.append(NavItem("Profil – Dokumente", "documents.index"))
        elif is_apprentice(user):
            items.append(NavItem("Dokumente", "documents.index"))

    if mailbox:
        # The embedded mode's SMTP sink: a development aid, never configured in production.
        items.append(NavItem("Postfach (Entwicklung)", "mailbox.index"))
    return items

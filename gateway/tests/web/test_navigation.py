from __future__ import annotations

import pytest

from chassis.auth import Principal
from gateway.web.navigation import navigation

# Everybody signed in names deputies and switches roles ("Profil – Vertretung", "Profil – Berechtigungen").
PROFILE = ["Profil – Vertretung", "Profil – Berechtigungen"]


def principal(**claims: object) -> Principal:
    return Principal.from_claims({"sub": "s-1", **claims})


def labels(user: Principal | None, mailbox: bool = False) -> list[str]:
    return [item.label for item in navigation(user, mailbox=mailbox)]


def test_anonymous_visitors_get_the_public_atlas_only() -> None:
    assert [(item.label, item.endpoint) for item in navigation(None, mailbox=False)] == [
        ("Ausbildungsatlas", "atlas.search")
    ]


def test_the_development_mailbox_is_listed_only_when_configured() -> None:
    assert labels(None, mailbox=True) == ["Ausbildungsatlas", "Postfach (Entwicklung)"]
    assert "Postfach (Entwicklung)" not in labels(principal(roles=["chamber_clerk"]))


@pytest.mark.parametrize(
    ("role", "own"),
    [("chamber_clerk", []), ("chamber_admin", ["Rollen der Kammer", "Protokoll"])],
)
def test_chamber_staff_register_import_unlock_and_decide_deputyships(role: str, own: list[str]) -> None:
    assert labels(principal(roles=[role])) == [
        "Übersicht",
        "Ausbildungsverhältnisse",
        "Ausbildungsvertrag eintragen",
        "Datenübermittlung",
        "Zugangssperren",
        "Zugangsdaten",
        "Vertretungen bestätigen",
        *own,
        *PROFILE,
    ]


def test_only_chamber_administrators_see_the_audit_log() -> None:
    assert "Protokoll" in labels(principal(roles=["chamber_admin"]))
    assert "Protokoll" not in labels(principal(roles=["chamber_clerk"]))


@pytest.mark.parametrize("company_role", ["admin", "manager"])
def test_company_administrators_and_managers_keep_trainers_and_the_atlas(company_role: str) -> None:
    user = principal(company_roles={"4711001": [company_role]})
    assert [(item.label, item.endpoint) for item in navigation(user, mailbox=False)] == [
        ("Übersicht", "pages.index"),
        ("Ausbildungsverhältnisse", "contracts.index"),
        ("Ausbilder/-in", "trainers.index"),
        ("Ausbildungsatlas", "atlas.entries"),
        ("Profil – Dokumente", "documents.index"),
        *([("Berechtigungen verwalten", "permissions.manage")] if company_role == "admin" else []),
        ("Profil – Vertretung", "permissions.deputies"),
        ("Profil – Berechtigungen", "permissions.contexts"),
    ]


def test_company_trainers_see_contracts_and_profile_documents_only() -> None:
    user = principal(company_roles={"4711001": ["trainer"]})
    assert labels(user) == ["Übersicht", "Ausbildungsverhältnisse", "Profil – Dokumente", *PROFILE]


def test_an_administrator_of_one_company_and_trainer_of_another_keeps_the_first() -> None:
    user = principal(company_roles={"4711001": ["trainer"], "4711002": ["admin"]})
    assert "Ausbilder/-in" in labels(user) and "Ausbildungsatlas" in labels(user)


def test_apprentices_see_their_documents_only() -> None:
    user = principal(roles=["apprentice"], apprentice_number="20260001")
    assert labels(user) == ["Übersicht", "Dokumente", *PROFILE]


def test_roles_without_pages_get_no_placeholder_entries() -> None:
    # Examiners have no pages yet: no "Prüfungstermine" placeholder.
    assert labels(principal(roles=["examiner"])) == ["Übersicht", *PROFILE]


def test_a_deputy_acting_for_a_company_sees_what_the_deputyship_allows_and_no_permissions() -> None:
    user = principal(
        company_roles={"4711001": ["manager"]},
        act={"sub": "deputy-1", "name": "Detlef"},
        acting_for={"kind": "company", "company_number": "4711001"},
    )
    assert labels(user) == [
        "Übersicht",
        "Ausbildungsverhältnisse",
        "Ausbilder/-in",
        "Ausbildungsatlas",
        "Profil – Dokumente",
        "Profil – Berechtigungen",
    ]


def test_an_administrator_acting_for_nobody_manages_permissions_and_a_narrowed_context_hides_them() -> None:
    assert "Berechtigungen verwalten" in labels(principal(company_roles={"4711001": ["admin"]}))
    narrowed = principal(roles=["examiner"], ctx="role:examiner")
    assert "Berechtigungen verwalten" not in labels(narrowed)

from __future__ import annotations

import pytest

from chassis.auth import Principal
from gateway.web.navigation import navigation


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


@pytest.mark.parametrize("role", ["chamber_clerk", "chamber_admin"])
def test_chamber_staff_list_register_and_import_contracts(role: str) -> None:
    assert labels(principal(roles=[role])) == [
        "Übersicht",
        "Ausbildungsverhältnisse",
        "Ausbildungsvertrag eintragen",
        "Datenübermittlung",
        "Zugangsdaten",
    ]


@pytest.mark.parametrize("company_role", ["admin", "manager"])
def test_company_administrators_and_managers_keep_trainers_and_the_atlas(company_role: str) -> None:
    user = principal(company_roles={"4711001": [company_role]})
    assert [(item.label, item.endpoint) for item in navigation(user, mailbox=False)] == [
        ("Übersicht", "pages.index"),
        ("Ausbildungsverhältnisse", "contracts.index"),
        ("Ausbilder/-in", "trainers.index"),
        ("Ausbildungsatlas", "atlas.entries"),
        ("Profil – Dokumente", "documents.index"),
    ]


def test_company_trainers_see_contracts_and_profile_documents_only() -> None:
    user = principal(company_roles={"4711001": ["trainer"]})
    assert labels(user) == ["Übersicht", "Ausbildungsverhältnisse", "Profil – Dokumente"]


def test_an_administrator_of_one_company_and_trainer_of_another_keeps_the_first() -> None:
    user = principal(company_roles={"4711001": ["trainer"], "4711002": ["admin"]})
    assert "Ausbilder/-in" in labels(user) and "Ausbildungsatlas" in labels(user)


def test_apprentices_see_their_documents_only() -> None:
    user = principal(roles=["apprentice"], apprentice_number="20260001")
    assert labels(user) == ["Übersicht", "Dokumente"]


def test_roles_without_pages_get_no_placeholder_entries() -> None:
    # Examiners have no pages yet: no "Prüfungstermine" placeholder.
    assert labels(principal(roles=["examiner"])) == ["Übersicht"]

"""The access pages against fakes: who may open them, what the services are asked, German answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from gateway.web.access_services import AccessLetter, AccessRequest
from gateway.web.app import create_app
from gateway.web.config import WebSettings
from gateway.web.services import FileStream, ServiceError, Trainer

TRAINER_ID = "7a3e0000-0000-4000-8000-000000000001"


@dataclass
class FakeAccessServices:
    invited: list[tuple[str, str, str]] = field(default_factory=list)
    redeemed: list[tuple[str, str, str]] = field(default_factory=list)
    fulfilled: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)
    failure: ServiceError | None = None

    def invite_apprentice(self, company_number: str, apprentice_number: str, email: str) -> str:
        self.invited.append((company_number, apprentice_number, email))
        return "invited"

    def invite_trainer(self, company_number: str, trainer_id: str, email: str) -> str:
        if self.failure is not None:
            raise self.failure
        self.invited.append((company_number, trainer_id, email))
        return "invited"

    def redeem_access_code(self, kind: str, number: str, code: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.redeemed.append((kind, number, code))

    def access_requests(self) -> list[AccessRequest]:
        return [AccessRequest(str(uuid.uuid4()), "company", "4712001", "Nora Neu", None)]

    def fulfil_access_request(self, request_id: str) -> AccessRequest:
        self.fulfilled.append(request_id)
        return AccessRequest(request_id, "company", "4712001", "Nora Neu", None, "issued")

    def access_letters(self) -> list[AccessLetter]:
        return [
            AccessLetter(
                str(uuid.uuid4()), "company", "4712001", "Neue Technik GmbH", "registered", None, None, None
            )
        ]

    def access_letter_content(self, letter_id: str) -> FileStream:
        return FileStream(chunks=iter([b"%PDF-1.7"]), filename="Anschreiben.pdf")

    def mark_letter_printed(self, letter_id: str) -> None:
        self.printed.append(letter_id)


@pytest.fixture
def access() -> FakeAccessServices:
    return FakeAccessServices()


@pytest.fixture
def app(web_settings: WebSettings, fake_services: Any, access: FakeAccessServices) -> Flask:
    fake_services.trainer_list.append(
        Trainer(TRAINER_ID, "4711001", "Anna", "Ausbilder", "anna@example.test", True, account_state="none")
    )
    return create_app(
        web_settings,
        services_factory=lambda token: fake_services,
        public_services_factory=lambda: fake_services,
        access_services_factory=lambda token: access,
    )


@pytest.mark.parametrize("role", ["trainer", "apprentice", "clerk"])
def test_only_company_maintainers_create_accounts(client, login, role: str) -> None:  # type: ignore[no-untyped-def]
    login(role)
    assert client.get(f"/ausbilder/{TRAINER_ID}/account").status_code == 403


def test_a_trainers_account_is_created_with_the_entered_address(
    client, login, csrf_token, form_token, access
) -> None:  # type: ignore[no-untyped-def]
    login("company_admin")
    page = client.get(f"/ausbilder/{TRAINER_ID}/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="anna@example.test"' in html
    answer = client.post(
        f"/ausbilder/{TRAINER_ID}/account",
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "email": "anna.neu@example.test",
        },
    )
    assert answer.status_code == 303
    assert access.invited == [("4711001", TRAINER_ID, "anna.neu@example.test")]


def test_an_address_of_another_account_is_named_on_the_field(
    client, login, csrf_token, form_token, access
) -> None:  # type: ignore[no-untyped-def]
    login("company_admin")
    access.failure = ServiceError(409)
    html = client.get(f"/ausbilder/{TRAINER_ID}/account").get_data(as_text=True)
    answer = client.post(
        f"/ausbilder/{TRAINER_ID}/account",
        data={"csrf_token": csrf_token(html), "form_token": form_token(html), "email": "taken@example.test"},
    )
    assert answer.status_code == 422
    assert "Diese E-Mail-Adresse gehört bereits zu einem anderen Account." in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("access-code-invalid", "Identnummer bzw. Azubinummer oder Aktivierungscode ist ungültig."),
        ("access-code-expired", "Der Aktivierungscode ist abgelaufen."),
        ("access-code-used", "Dieser Aktivierungscode wurde bereits verwendet."),
    ],
)
def test_a_refused_code_gets_a_german_message(
    client, login, csrf_token, form_token, access, problem, message
) -> None:  # type: ignore[no-untyped-def]
    login("trainer")
    access.failure = ServiceError(422, {"type": problem})
    html = client.get("/zugang-freischalten").get_data(as_text=True)
    answer = client.post(
        "/zugang-freischalten",
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "kind": "company",
            "number": "4712001",
            "code": "AAAA-BBBB-CCCC",
        },
    )
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)


def test_unlocking_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/zugang-freischalten").status_code == 302


@pytest.mark.parametrize("role", ["company_admin", "trainer", "apprentice"])
def test_only_clerks_see_the_chambers_access_data(client, login, role: str) -> None:  # type: ignore[no-untyped-def]
    login(role)
    assert client.get("/zugangsdaten").status_code == 403
    assert client.get(f"/zugangsdaten/anschreiben/{uuid.uuid4()}").status_code == 403


def test_a_clerk_fulfils_a_request_and_marks_a_letter_printed(client, login, csrf_token, access) -> None:  # type: ignore[no-untyped-def]
    login("clerk")
    html = client.get("/zugangsdaten").get_data(as_text=True)
    assert "Offene Anfragen" in html and "Neue Technik GmbH" in html
    token = csrf_token(html)
    request_id, letter_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert client.post(f"/zugangsdaten/anfragen/{request_id}", data={"csrf_token": token}).status_code == 303
    assert (
        client.post(f"/zugangsdaten/anschreiben/{letter_id}/gedruckt", data={"csrf_token": token}).status_code
        == 303
    )
    assert access.fulfilled == [request_id] and access.printed == [letter_id]
    assert client.post(f"/zugangsdaten/anfragen/{request_id}").status_code == 400  # no CSRF token

"""Roles, rights, deputyships and the token exchange end to end, against PostgreSQL.

The matrix walks role × endpoint × owner for every endpoint of the grants API, and the
acting-for paths: without approval no acting, after removal no acting, a deputy for company A
holds nothing at company B, and a tampered act/roles claim breaks the signature.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import KeySet

from chassis.auth import TokenValidator
from chassis.contracts.training import BranchAssigned, BranchReachChanged, BranchRemoved
from chassis.demo import demo_account
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.problems import ProblemError
from identity.bootstrap import IdentityRuntime
from identity.domain.model import Account, AccountStatus

ISSUER = "http://portal.test/auth"
A = "4711001"  # the demo company: Markus Muster is its Administrator, Anna Ausbilder its trainer
B = "4711002"
PASSWORD = "Ein-langes-Passwort-2026"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


def add_person(runtime: IdentityRuntime, email: str, **grants: Any) -> Account:
    account = Account(
        id=uuid.uuid4(),
        email=email,
        name=email.split("@")[0].title(),
        status=AccountStatus.ACTIVE,
        password_hash=runtime.hasher.hash(PASSWORD),
        created_at=datetime.now(UTC),
        **grants,
    )
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()
    return account


@pytest.fixture
def people(runtime: IdentityRuntime) -> dict[str, tuple[str, str]]:
    """Logins (login, password) by role."""
    add_person(runtime, "admin-b@example.org", company_roles={B: ["admin"]})
    add_person(runtime, "kammer-admin@example.org", roles=["chamber_admin"])
    add_person(runtime, "deputy@example.org")
    demo = {key: demo_account(key) for key in ("clerk", "company_admin", "trainer", "apprentice")}
    return {
        "admin_a": (demo["company_admin"].login, demo["company_admin"].password),
        "trainer_a": (demo["trainer"].login, demo["trainer"].password),
        "admin_b": ("admin-b@example.org", PASSWORD),
        "clerk": (demo["clerk"].login, demo["clerk"].password),
        "chamber_admin": ("kammer-admin@example.org", PASSWORD),
        "apprentice": (demo["apprentice"].login, demo["apprentice"].password),
        "deputy": ("deputy@example.org", PASSWORD),
    }


@pytest.fixture
def token_of(
    app: Flask, browser: Any, pkce: Any, people: dict[str, tuple[str, str]]
) -> Callable[[str], dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}

    def token(who: str) -> dict[str, Any]:
        if who not in cache:
            # Each person logs in in a browser of their own.
            own = dataclasses.replace(browser, client=app.test_client())
            login, password = people[who]
            verifier, challenge = pkce()
            code, _ = own.code_for(login, password, verifier, challenge)
            response = own.token(
                grant_type="authorization_code",
                code=code,
                redirect_uri=browser.redirect_uri,
                code_verifier=verifier,
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            cache[who] = response.get_json()
        return cache[who]

    return token


def call(browser: Any, method: str, path: str, token: str, body: Any = None) -> Any:
    return browser.client.open(
        path,
        method=method,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def validator(browser: Any) -> TokenValidator:
    def keys(force: bool = False) -> KeySet:
        return KeySet.import_key_set(browser.client.get("/jwks").get_json())

    return TokenValidator(keys, issuer=ISSUER, audience="bildungsportal")


def exchange(browser: Any, subject_token: str, context: str) -> Any:
    return browser.token(
        grant_type=EXCHANGE, subject_token=subject_token, subject_token_type=ACCESS, context=context
    )


ANNA = demo_account("trainer").account_id
MARKUS = demo_account("company_admin").account_id

# (method, path, body) -> who may (2xx); everybody else gets 403 (or 404 where existence is private).
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("GET", f"/companies/{A}/accounts", None, {"admin_a"}),
    ("GET", f"/companies/{A}/services", None, {"admin_a"}),
    ("PUT", f"/companies/{A}/accounts/{ANNA}/roles/manager", None, {"admin_a"}),
    ("DELETE", f"/companies/{A}/accounts/{ANNA}/roles/manager", None, {"admin_a"}),
    ("PUT", f"/companies/{A}/services/exam_registration", {"enabled": True}, {"admin_a"}),
    ("POST", f"/companies/{A}/accounts", {"email": "deputy@example.org", "role": "trainer"}, {"admin_a"}),
    ("GET", "/chamber/staff", None, {"chamber_admin"}),
    ("GET", "/chamber/accounts?email=deputy@example.org", None, {"chamber_admin"}),
    ("PUT", f"/chamber/accounts/{ANNA}/roles/chamber_clerk", None, {"chamber_admin"}),
    ("GET", "/deputyships/open", None, {"clerk", "chamber_admin"}),
    (
        "POST",
        "/deputyships",
        {"deputy_email": "deputy@example.org", "company_number": A},
        {"admin_a"},
    ),
]
ROLES = ["admin_a", "trainer_a", "admin_b", "clerk", "chamber_admin", "apprentice", "deputy"]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX]
)
def test_role_endpoint_owner_matrix(
    browser: Any,
    token_of: Callable[[str], dict[str, Any]],
    method: str,
    path: str,
    body: Any,
    allowed: set[str],
) -> None:
    for who in ROLES:
        response = call(browser, method, path, token_of(who)["access_token"], body)
        if who in allowed:
            assert response.status_code < 300, (who, response.get_data(as_text=True))
        else:
            assert response.status_code in (403, 404), (who, response.status_code)
            assert response.content_type == "application/problem+json"


def test_every_endpoint_wants_a_token(browser: Any) -> None:
    for method, path, body, _ in MATRIX:
        response = browser.client.open(path, method=method, json=body)
        assert response.status_code == 401, path


def test_the_last_administrator_stays_and_rights_need_the_service(
    browser: Any, token_of: Callable[[str], dict[str, Any]]
) -> None:
    admin = token_of("admin_a")["access_token"]
    last = call(browser, "DELETE", f"/companies/{A}/accounts/{MARKUS}/roles/admin", admin)
    assert last.status_code == 422 and "role" in json.dumps(last.get_json())
    right = f"/companies/{A}/accounts/{MARKUS}/rights/exam_registration"
    assert call(browser, "PUT", right, admin).status_code == 422
    assert (
        call(
            browser, "PUT", f"/companies/{A}/services/exam_registration", admin, {"enabled": True}
        ).status_code
        == 200
    )
    granted = call(browser, "PUT", right, admin)
    assert granted.status_code == 200 and granted.get_json()["rights"] == ["exam_registration"]
    assert call(browser, "GET", "/companies/administrable", admin).get_json() == {"company_numbers": [A]}
    # The next token carries the right (the one before does not).
    refreshed = browser.token(grant_type="refresh_token", refresh_token=token_of("admin_a")["refresh_token"])
    principal = validator(browser).validate(refreshed.get_json()["access_token"])
    assert principal.has_service_right(A, "exam_registration")


def test_acting_for_a_company_through_the_token_exchange(
    browser: Any, token_of: Callable[[str], dict[str, Any]], runtime: IdentityRuntime
) -> None:
    admin, clerk = token_of("admin_a")["access_token"], token_of("clerk")["access_token"]
    deputy_token = token_of("deputy")["access_token"]
    named = call(
        browser, "POST", "/deputyships", admin, {"deputy_email": "deputy@example.org", "company_number": A}
    )
    assert named.status_code == 201, named.get_data(as_text=True)
    deputyship = named.get_json()["id"]
    context = f"deputy:{deputyship}"
    # Without approval no acting.
    assert exchange(browser, deputy_token, context).get_json()["error"] == "invalid_grant"
    approved = call(browser, "POST", f"/deputyships/{deputyship}/approval", clerk)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    contexts = call(browser, "GET", "/contexts", deputy_token).get_json()["items"]
    assert context in [c["key"] for c in contexts]
    acting = exchange(browser, deputy_token, context)
    assert acting.status_code == 200, acting.get_data(as_text=True)
    assert "refresh_token" not in acting.get_json()
    principal = validator(browser).validate(acting.get_json()["access_token"])
    assert principal.actor == demo_like_id(runtime, "deputy@example.org")
    assert principal.acting_for == {"kind": "company", "company_number": A}
    assert dict(principal.company_roles) == {A: frozenset({"manager"})}  # nothing at B
    acting_token = acting.get_json()["access_token"]
    # A deputy acting for someone changes no permissions, and no chains of exchanges.
    assert call(browser, "GET", f"/companies/{A}/accounts", acting_token).status_code == 403
    assert (
        call(browser, "POST", "/deputyships", acting_token, {"deputy_email": "x@example.org"}).status_code
        == 403
    )
    assert exchange(browser, acting_token, context).get_json()["error"] == "invalid_grant"
    # Someone else cannot use the deputyship; another client's or a foreign context neither.
    assert exchange(browser, token_of("trainer_a")["access_token"], context).status_code == 400
    assert exchange(browser, deputy_token, f"company:{B}").status_code == 400
    # Leaving the context (revoking the narrowed token) ends it.
    revoked = browser.client.post(
        "/revoke", data={"token": acting_token}, auth=(browser.client_id, browser.client_secret)
    )
    assert revoked.status_code == 200
    assert call(browser, "GET", "/accounts/me", acting_token).status_code == 401
    # After removal no acting.
    assert call(browser, "DELETE", f"/deputyships/{deputyship}", admin).status_code == 200
    assert exchange(browser, deputy_token, context).status_code == 400


def demo_like_id(runtime: IdentityRuntime, email: str) -> str:
    with runtime.uow_factory() as uow:
        account = uow.accounts.by_email(email)
    assert account is not None
    return str(account.id)


def test_a_context_narrows_the_token(browser: Any, token_of: Callable[[str], dict[str, Any]]) -> None:
    trainer = token_of("trainer_a")["access_token"]
    narrowed = exchange(browser, trainer, f"company:{A}")
    assert narrowed.status_code == 200
    principal = validator(browser).validate(narrowed.get_json()["access_token"])
    assert principal.context == f"company:{A}" and principal.actor is None
    assert exchange(browser, trainer, "role:chamber_admin").status_code == 400


def _tamper(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": ["chamber_admin"]},
        {"company_roles": {B: ["admin"]}},
        {"act": {"sub": str(uuid.uuid4())}},
        {"service_rights": {A: ["exam_registration"]}},
    ],
)
def test_tampered_claims_break_the_signature(
    browser: Any, token_of: Callable[[str], dict[str, Any]], claims: dict[str, Any]
) -> None:
    forged = _tamper(token_of("trainer_a")["access_token"], **claims)
    with pytest.raises(ProblemError) as raised:
        validator(browser).validate(forged)
    assert raised.value.status == 401
    assert call(browser, "GET", "/chamber/staff", forged).status_code == 401
    assert exchange(browser, forged, f"company:{A}").status_code == 400


def register_event(event_type: str, payload: dict[str, Any]) -> Any:
    envelope = new_envelope(producer="training-records", event_type=event_type, subject="s", payload=payload)
    return IncomingEvent(envelope, load_payload(event_type, 1, payload))


def test_a_head_offices_roles_reach_its_branches_in_the_next_token(
    browser: Any, token_of: Callable[[str], dict[str, Any]], runtime: IdentityRuntime
) -> None:
    branch = {"branch_number": "4711101", "head_office_number": A}
    runtime.bus.handle_events([register_event(BranchAssigned.TYPE, branch)])
    login = token_of("admin_a")
    before = validator(browser).validate(login["access_token"])
    assert "4711101" not in before.company_roles
    runtime.bus.handle_events(
        [register_event(BranchReachChanged.TYPE, {"company_number": A, "enabled": True})]
    )
    refreshed = browser.token(grant_type="refresh_token", refresh_token=login["refresh_token"]).get_json()
    after = validator(browser).validate(refreshed["access_token"])
    assert after.has_company_role("4711101", "admin")
    assert after.claims["reach"] == {A: ["4711101"]}
    # The branch leaves the head office: its roles there end with the next token.
    runtime.bus.handle_events([register_event(BranchRemoved.TYPE, branch)])
    again = browser.token(grant_type="refresh_token", refresh_token=refreshed["refresh_token"]).get_json()
    assert "4711101" not in validator(browser).validate(again["access_token"]).company_roles

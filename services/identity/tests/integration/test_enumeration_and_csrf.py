"""Attacks on identity's forms: user enumeration by message and by timing (login, password reset,
activation), CSRF on every form, and the login cookie's flags.

Timing: each pair of cases is sent alternately (so both see the same machine noise), 20 times
each, and the medians compared within a generous factor: robust on a busy 2-core machine, yet
a path that skips the argon2 verification (several times cheaper) or sends mail while answering
would stand out.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from chassis.demo import demo_account
from identity.bootstrap import seed_demo
from identity.domain.model import Account
from identity.entrypoints.app import build_app

ATTEMPTS = 20
FACTOR = 2.0
# Below this difference of medians nothing can be told apart over a network anyway.
SLACK_SECONDS = 0.004
FAILED_LOGIN = "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Ihre Zugangsdaten."
INVALID_ACTIVATION = "Azubinummer oder Aktivierungscode ist ungültig."
RESET_REQUESTED = "Wenn zu Ihren Angaben ein aktiver Account besteht"
CSRF_REFUSED = "Bitte laden Sie die Seite neu"


@pytest.fixture
def lenient_runtime(make_runtime: Callable[..., Any]) -> Any:
    """No lockout within the measurement (every case is tried 20 times); demo data seeded."""
    # argon2 costlier than the suite's default, so that it dominates a login's time and a path
    # without it would stand out clearly (16 MiB, 2 passes).
    runtime = make_runtime(
        IDENTITY_LOCKOUT_THRESHOLD="1000", IDENTITY_ARGON2_TIME_COST="2", IDENTITY_ARGON2_MEMORY_KIB="16384"
    )
    seed_demo(runtime)
    return runtime


def _pending_apprentice(runtime: Any, number: str) -> None:
    now = datetime.now(UTC)
    account = Account(
        id=uuid.uuid4(), email=f"azubi-{number}@example.org", name="Paula Probe", created_at=now
    )
    account.make_apprentice(number)
    account.issue_activation_code(now, timedelta(days=30), runtime.code_hasher)
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()


class FormSender:
    """Posts one form again and again with the CSRF token of one page view; times each POST."""

    def __init__(self, app: Flask, path: str) -> None:
        self.client = app.test_client()
        self.path = path
        page = self.client.get(path).get_data(as_text=True)
        marker = 'name="csrf_token" type="hidden" value="'
        self.token = page.split(marker, 1)[1].split('"', 1)[0]

    def post(self, **data: str) -> tuple[float, int, str]:
        started = time.perf_counter()
        response = self.client.post(self.path, data=data | {"csrf_token": self.token})
        elapsed = time.perf_counter() - started
        return elapsed, response.status_code, response.get_data(as_text=True)


def _compare(cases: dict[str, Callable[[], tuple[float, int, str]]], expected_text: str) -> dict[str, float]:
    """Each case ATTEMPTS times, interleaved; the same status and message; medians within FACTOR."""
    timings: dict[str, list[float]] = {name: [] for name in cases}
    answers: dict[str, set[int]] = {name: set() for name in cases}
    for send in cases.values():  # warm-up (first requests load templates, connections)
        send()
    for _ in range(ATTEMPTS):
        for name, send in cases.items():
            elapsed, status, page = send()
            assert expected_text in page, (name, page[:400])
            timings[name].append(elapsed)
            answers[name].add(status)
    assert len({frozenset(s) for s in answers.values()}) == 1, answers  # one status for all
    medians = {name: statistics.median(values) for name, values in timings.items()}
    slowest, fastest = max(medians.values()), min(medians.values())
    assert slowest <= FACTOR * fastest or slowest - fastest <= SLACK_SECONDS, medians
    return medians


def test_login_does_not_tell_unknown_from_wrong_password_or_not_activated(lenient_runtime: Any) -> None:
    app = build_app(lenient_runtime)
    _pending_apprentice(lenient_runtime, "20269901")
    clerk = demo_account("clerk")
    sender = FormSender(app, "/login")
    medians = _compare(
        {
            "unknown login": lambda: sender.post(login="niemand@example.org", password="Falsch-2026-x"),
            "wrong password": lambda: sender.post(login=clerk.login, password="Falsch-2026-x"),
            "not yet activated": lambda: sender.post(login="20269901", password="Falsch-2026-x"),
        },
        FAILED_LOGIN,
    )
    # The comparison is meaningful only if every case really spent an argon2 verification.
    started = time.perf_counter()
    lenient_runtime.hasher.verify(lenient_runtime.shield.dummy_password_hash, "x")
    argon2_seconds = time.perf_counter() - started
    assert min(medians.values()) >= 0.5 * argon2_seconds, (medians, argon2_seconds)


def test_password_reset_does_not_tell_who_has_an_account(lenient_runtime: Any) -> None:
    app = build_app(lenient_runtime)
    _pending_apprentice(lenient_runtime, "20269902")
    sender = FormSender(app, "/password/forgotten")
    _compare(
        {
            "active account": lambda: sender.post(login=demo_account("clerk").login),
            "unknown": lambda: sender.post(login="niemand@example.org"),
            "apprentice by e-mail": lambda: sender.post(login=demo_account("apprentice").email),
            "not yet activated": lambda: sender.post(login="20269902"),
        },
        RESET_REQUESTED,
    )


def test_activation_does_not_tell_a_known_azubinummer_from_an_unknown_one(lenient_runtime: Any) -> None:
    app = build_app(lenient_runtime)
    _pending_apprentice(lenient_runtime, "20269903")
    sender = FormSender(app, "/activate")
    password = "Mein-neues-Passwort-2026"

    def attempt(number: str) -> Callable[[], tuple[float, int, str]]:
        return lambda: sender.post(
            apprentice_number=number,
            activation_code="ABCD-EFGH-JKMN",
            password=password,
            password_repeat=password,
        )

    _compare(
        {
            "known number, wrong code": attempt("20269903"),
            "unknown number": attempt("20269999"),
            "active account's number": attempt(demo_account("apprentice").login),
        },
        INVALID_ACTIVATION,
    )


# -- CSRF ------------------------------------------------------------------------------------------
# Endpoints that take POSTs but are no forms: clients authenticate there themselves (OAuth).
NOT_FORMS = {"oidc.token", "oidc.revoke", "oidc.userinfo"}


def _form_endpoints(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, path) of every POST that a browser sends: the pages and logout, found in the URL
    map, so a form added later is covered without naming it here."""
    found = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint in NOT_FORMS:
            continue
        if not rule.endpoint.startswith(("pages.", "oidc.")):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x" * 43)
        found.append((rule.endpoint, path))
    return sorted(found)


def test_every_form_refuses_a_post_without_or_with_a_wrong_csrf_token(runtime: Any) -> None:
    app = build_app(runtime)
    forms = _form_endpoints(app)
    assert {"pages.login", "pages.activate", "pages.password_forgotten", "pages.password_reset"} <= {
        endpoint for endpoint, _ in forms
    }
    assert "oidc.logout_confirmed" in {endpoint for endpoint, _ in forms}
    clerk = demo_account("clerk")
    for endpoint, path in forms:
        client = app.test_client()
        client.get("/login")  # a session with a CSRF secret exists: only the token is wrong
        data = {"login": clerk.login, "password": clerk.password}
        for token in (None, "wrong", "IjEyMzQ1Njc4OTAi.Zm9v.YmFy"):
            form = data if token is None else data | {"csrf_token": token}
            response = client.post(path, data=form)
            assert response.status_code == 400, (endpoint, token, response.status_code)
            assert CSRF_REFUSED in response.get_data(as_text=True), endpoint


def test_a_token_of_another_session_is_refused(runtime: Any) -> None:
    app = build_app(runtime)
    victim, attacker = app.test_client(), app.test_client()
    page = attacker.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    victim.get("/login")
    clerk = demo_account("clerk")
    response = victim.post(
        "/login", data={"login": clerk.login, "password": clerk.password, "csrf_token": token}
    )
    assert response.status_code == 400


# -- cookie ----------------------------------------------------------------------------------------
def test_the_login_cookie_is_secure_httponly_and_samesite_behind_https(
    make_runtime: Callable[..., Any],
) -> None:
    runtime = make_runtime(BP_PUBLIC_URL="https://portal.example")
    client = build_app(runtime).test_client()
    response = client.get("/login", base_url="https://portal.example/auth")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "the login form sets the session cookie (CSRF secret)"
    for cookie in cookies:
        attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite"} <= attributes, cookie
        assert "SameSite=Lax" in cookie or "SameSite=Strict" in cookie, cookie

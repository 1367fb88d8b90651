"""Registrieren → mail event → Registrierung bestätigen → Anmelden, on a real PostgreSQL;
no enumeration, a 24-hour link used once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from chassis.demo import demo_account
from chassis.events.catalogue import validate_payload
from identity.adapters.orm import accounts, audit_records, outbox

ISSUER = "http://portal.test/auth"
PASSWORD = "Mein-Registrierungs-Passwort"
SENT = "Wir haben Ihnen eine E-Mail an die angegebene Adresse geschickt."


def text(response) -> str:
    return response.get_data(as_text=True)


def events(runtime, event_type: str) -> list[dict]:
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def register(form_post, email: str, name: str = "Rita Registriert", password: str = PASSWORD):
    return form_post("/register", name=name, email=email, password=password, password_repeat=password)


def confirm_path(event: dict) -> str:
    url = event["payload"]["confirm_url"]
    assert url.startswith(f"{ISSUER}/register/confirm/")
    return url.removeprefix(ISSUER)


def test_register_page_is_german_labelled_and_linked_from_the_login(browser) -> None:
    login = text(browser.client.get("/login"))
    assert ">Registrieren</a>" in login
    page = text(browser.client.get("/register"))
    assert "Registrieren</h1>" in page and '<html lang="de">' in page
    for label in ("Vor- und Nachname", "E-Mail-Adresse", "Passwort", "Passwort wiederholen"):
        assert f">{label}</label>" in page
    assert 'autocomplete="new-password"' in page and 'name="csrf_token"' in page
    assert "Mindestens 12 Zeichen" in page


def test_registration_confirmation_and_login(runtime, browser, form_post) -> None:
    answer = register(form_post, "Rita@Example.org")
    assert answer.status_code == 200 and SENT in text(answer)
    [event] = events(runtime, "identity.registration.requested")
    validate_payload(event["type"], event["version"], event["payload"])
    path = confirm_path(event)
    # Not active before it is confirmed.
    assert browser.login("rita@example.org", PASSWORD).status_code == 200
    page = browser.client.get(path)
    assert page.status_code == 200 and "Registrierung bestätigen</h1>" in text(page)
    wrong = form_post(path, password="Nicht-das-Passwort-2026")
    assert wrong.status_code == 422 and "stimmt nicht mit dem Passwort" in text(wrong)
    done = form_post(path, password=PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert browser.login("rita@example.org", PASSWORD).status_code == 302
    # Used up: the link now says so, and offers a new one.
    again = browser.client.get(path)
    assert again.status_code == 410
    assert "ungültig oder wurde bereits verwendet" in text(again) and "Neuen Link anfordern" in text(again)
    [used] = events(runtime, "identity.account_link.used")
    assert used["payload"]["link"] == "registration"


def test_an_existing_address_gets_the_same_answer_and_a_notice_mail(runtime, form_post) -> None:
    clerk = demo_account("clerk")
    new = register(form_post, "neu@example.org")
    known = register(form_post, clerk.email.upper(), name="Mallory")
    assert new.status_code == known.status_code == 200
    assert text(new).replace("neu@example.org", "") == text(known).replace(clerk.email.upper(), "")
    [existing] = events(runtime, "identity.registration.existing_account")
    assert existing["payload"]["email"] == clerk.email
    assert existing["payload"]["password_forgotten_url"] == f"{ISSUER}/password/forgotten"
    assert len(events(runtime, "identity.registration.requested")) == 1
    with runtime.engine.connect() as conn:
        names = (
            conn.execute(sa.select(accounts.c.name).where(accounts.c.email == clerk.email)).scalars().all()
        )
    assert names == [clerk.name]


def test_an_expired_link_says_so_and_a_new_one_can_be_asked_for(runtime, browser, form_post) -> None:
    register(form_post, "spaet@example.org")
    path = confirm_path(events(runtime, "identity.registration.requested")[0])
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.email == "spaet@example.org")
            .values(registration_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = browser.client.get(path)
    assert expired.status_code == 410 and "abgelaufen" in text(expired)
    asked = form_post("/register/link", email="spaet@example.org")
    assert asked.status_code == 200 and "neuen Link" in text(asked)
    unknown = form_post("/register/link", email="niemand@example.org")
    assert text(unknown) == text(asked)
    first, second = events(runtime, "identity.registration.requested")
    assert form_post(confirm_path(second), password=PASSWORD).status_code == 302
    assert browser.client.get(confirm_path(first)).status_code == 410


def test_the_password_rules_are_named_in_german(runtime, form_post) -> None:
    short = register(form_post, "a@example.org", password="zu-kurz")
    assert short.status_code == 422 and "mindestens 12" in text(short)
    common = register(form_post, "a@example.org", password="qwertyuiop123")
    assert common.status_code == 422 and "Liste häufig verwendeter" in text(common)
    assert events(runtime, "identity.registration.requested") == []


def test_registrations_are_audited_without_secrets(runtime, form_post) -> None:
    register(form_post, "audit@example.org")
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_records)).mappings().all()
    assert [row["kind"] for row in rows] == ["account.registered"]
    assert PASSWORD not in str(rows[0]["details"]) and "confirm" not in str(rows[0]["details"])

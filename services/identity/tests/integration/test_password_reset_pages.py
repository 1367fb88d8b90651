"""Passwort vergessen → mail event → Neues Passwort vergeben, on a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from chassis.demo import demo_account
from chassis.events.catalogue import validate_payload
from identity.adapters.orm import accounts, outbox

EVENT = "identity.password_reset.requested"
NEUTRAL = "Wenn zu Ihren Angaben ein aktiver Account besteht, erhalten Sie in Kürze eine E-Mail"
INVALID_LINK = "Dieser Link ist ungültig oder abgelaufen."
NEW_PASSWORD = "Mein-neues-Passwort-2026"
ISSUER = "http://portal.test/auth"


def text(response) -> str:
    return response.get_data(as_text=True)


def reset_events(runtime) -> list[dict]:
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == EVENT).order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def ask_for_link(form_post, login: str):
    return form_post("/password/forgotten", login=login)


def link_path(event: dict) -> str:
    url = event["payload"]["reset_url"]
    assert url.startswith(f"{ISSUER}/password/reset/")
    return url.removeprefix(ISSUER)


def test_page_is_german_labelled_and_hints_at_the_azubinummer(browser) -> None:
    page = text(browser.client.get("/password/forgotten"))
    assert '<html lang="de">' in page and "Passwort vergessen</h1>" in page
    assert '<label for="login">Benutzername oder E-Mail-Adresse</label>' in page
    assert "Auszubildende geben bitte ihre Azubinummer ein." in page
    assert 'aria-describedby="login-hinweis"' in page and 'autocomplete="username"' in page
    assert 'name="csrf_token"' in page


def test_request_without_csrf_token_is_refused(browser, runtime) -> None:
    response = browser.client.post("/password/forgotten", data={"login": demo_account("clerk").login})
    assert response.status_code == 400
    assert reset_events(runtime) == []


def test_empty_field_is_named_and_tied_to_the_input(form_post) -> None:
    response = ask_for_link(form_post, "")
    assert response.status_code == 422
    page = text(response)
    assert 'aria-invalid="true"' in page and 'aria-describedby="login-hinweis login-fehler"' in page


def test_same_answer_for_known_unknown_and_apprentice_by_email(runtime, form_post) -> None:
    answers = [
        ask_for_link(form_post, login)
        for login in (demo_account("clerk").login, "niemand@example.org", demo_account("apprentice").email)
    ]
    assert {a.status_code for a in answers} == {200}
    [body] = {text(a) for a in answers}  # word for word the same page
    assert NEUTRAL in body
    # Only the clerk gets a link: the apprentice has to use the Azubinummer.
    [event] = reset_events(runtime)
    assert event["payload"]["email"] == demo_account("clerk").email


def test_event_payload_is_valid_per_the_catalogue(runtime, form_post) -> None:
    before = datetime.now(UTC)
    ask_for_link(form_post, demo_account("apprentice").login)
    [event] = reset_events(runtime)
    assert event["type"] == EVENT and event["version"] == 1
    data = validate_payload(EVENT, 1, event["payload"])
    assert str(data["account_id"]) == demo_account("apprentice").account_id
    assert before + timedelta(minutes=59) < data["expires_at"] <= datetime.now(UTC) + timedelta(minutes=60)
    with runtime.engine.connect() as conn:
        stored = conn.execute(
            sa.select(accounts.c.password_reset_token_hash).where(
                accounts.c.id == demo_account("apprentice").account_id
            )
        ).scalar_one()
    token = link_path(event).rsplit("/", 1)[1]
    assert stored and token not in stored


def test_new_password_then_login(runtime, browser, form_post) -> None:
    apprentice = demo_account("apprentice")
    ask_for_link(form_post, apprentice.login)
    path = link_path(reset_events(runtime)[0])
    page = text(browser.client.get(path))
    assert "Neues Passwort vergeben</h1>" in page and 'autocomplete="new-password"' in page
    done = form_post(path, password=NEW_PASSWORD, password_repeat=NEW_PASSWORD)
    assert done.status_code == 200
    assert "Ihr neues Passwort ist gespeichert" in text(done) and ">Anmelden</a>" in text(done)
    assert browser.login(apprentice.login, apprentice.password).status_code == 200
    assert browser.login(apprentice.login, NEW_PASSWORD).status_code == 302


def test_mismatched_passwords_are_named(runtime, form_post) -> None:
    ask_for_link(form_post, demo_account("clerk").login)
    path = link_path(reset_events(runtime)[0])
    response = form_post(path, password=NEW_PASSWORD, password_repeat=NEW_PASSWORD + "x")
    assert response.status_code == 422
    assert "Die beiden Passwörter stimmen nicht überein." in text(response)


def test_used_link_gives_the_german_message(runtime, form_post, browser) -> None:
    ask_for_link(form_post, demo_account("clerk").login)
    path = link_path(reset_events(runtime)[0])
    form_post(path, password=NEW_PASSWORD, password_repeat=NEW_PASSWORD)
    again = browser.client.get(path)
    assert again.status_code == 410
    assert INVALID_LINK in text(again) and ">Neuen Link anfordern</a>" in text(again)


def test_expired_link_gives_the_german_message(runtime, form_post, browser, csrf) -> None:
    clerk = demo_account("clerk")
    ask_for_link(form_post, clerk.login)
    path = link_path(reset_events(runtime)[0])
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == clerk.account_id)
            .values(password_reset_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert INVALID_LINK in text(browser.client.get(path))
    # The expired page has no form; the session's CSRF token is the same on every page.
    token = csrf(text(browser.client.get("/password/forgotten")))
    posted = browser.client.post(
        path, data={"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD, "csrf_token": token}
    )
    assert posted.status_code == 410 and INVALID_LINK in text(posted)
    assert browser.login(clerk.login, NEW_PASSWORD).status_code == 200

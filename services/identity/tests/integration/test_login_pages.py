"""The German login and activation pages: lockout, activation, CSRF, cookie, accessibility hooks."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from chassis.demo import demo_account
from identity.adapters.orm import accounts, outbox
from identity.domain.model import Account
from identity.entrypoints.app import build_app

NEW_PASSWORD = "Mein-neues-Passwort-2026"
FAILED_MESSAGE = "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Ihre Zugangsdaten."


def text(response) -> str:
    return response.get_data(as_text=True)


def alert_of(response) -> str:
    """The page's error message (the rest of the page echoes what was typed)."""
    match = re.search(r'<p class="message message--error" role="alert">(.*?)</p>', text(response), re.S)
    assert match, "no error message"
    return match.group(1)


def test_login_page_is_german_and_labelled(browser) -> None:
    page = text(browser.client.get("/login"))
    assert '<html lang="de">' in page
    assert "<h1" in page and "Anmelden</h1>" in page
    assert "Benutzername, E-Mail-Adresse oder Azubinummer" in page
    assert re.search(r'<label for="login">', page) and re.search(r'<label for="password">', page)
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page
    assert ">Passwort vergessen</a>" in page and ">Account aktivieren</a>" in page
    # No dead links: the linked pages exist.
    assert browser.client.get("/password/forgotten").status_code == 200
    assert browser.client.get("/activate").status_code == 200


def test_login_cookie_is_scoped_and_protected(app) -> None:
    page = app.test_client().get("/login", base_url="http://portal.test/auth")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("bp_idp_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/auth" in cookie
    assert "Secure" not in cookie  # local dev over http


def test_behind_the_edge_links_and_cookie_follow_the_prefix(make_runtime) -> None:
    runtime = make_runtime(BP_BEHIND_PROXY="1", BP_PUBLIC_URL="https://portal.example")
    client = build_app(runtime).test_client()
    page = client.get("/login", headers={"X-Forwarded-Prefix": "/auth", "X-Forwarded-Proto": "https"})
    assert 'action="/auth/login"' in text(page)
    assert 'href="/auth/activate"' in text(page)
    cookie = page.headers["Set-Cookie"]
    assert "Path=/auth" in cookie and "Secure" in cookie


def test_form_without_csrf_token_is_refused(browser) -> None:
    clerk = demo_account("clerk")
    response = browser.client.post("/login", data={"login": clerk.login, "password": clerk.password})
    assert response.status_code == 400
    assert "Bitte laden Sie die Seite neu" in text(response)


def test_unknown_user_and_wrong_password_get_the_same_message(browser) -> None:
    unknown = browser.login("niemand@example.org", "irgendein-Passwort")
    wrong = browser.login(demo_account("clerk").login, "falsches-Passwort")
    assert FAILED_MESSAGE in text(unknown) and FAILED_MESSAGE in text(wrong)
    assert unknown.status_code == wrong.status_code == 200


def test_empty_fields_are_named_and_tied_to_their_inputs(browser, form_post) -> None:
    response = form_post("/login", login="", password="")
    assert response.status_code == 422
    page = text(response)
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="login-fehler"' in page
    assert 'id="login-fehler"' in page and "Bitte geben Sie Ihr Passwort ein." in page


def test_five_failures_lock_the_account_for_24_hours(runtime, browser) -> None:
    trainer = demo_account("trainer")
    for _ in range(4):
        assert FAILED_MESSAGE in text(browser.login(trainer.login, "falsches-Passwort"))
    fifth = browser.login(trainer.login, "falsches-Passwort")
    # The lock is not announced on the page: the same message and status as any failure,
    # so that nobody learns which accounts exist or are locked (the owner gets a mail).
    assert fifth.status_code == 200
    assert FAILED_MESSAGE in text(fifth) and "gesperrt bis" not in text(fifth)
    # Now even the right password is refused, with the same German message.
    right = browser.login(trainer.login, trainer.password)
    assert right.status_code == 200 and FAILED_MESSAGE in text(right)
    unknown = browser.login("niemand@example.org", trainer.password)
    assert unknown.status_code == right.status_code
    assert alert_of(unknown) == alert_of(right) == alert_of(fifth)
    with runtime.engine.connect() as conn:
        locked_until = conn.execute(
            sa.select(accounts.c.locked_until).where(accounts.c.id == trainer.account_id)
        ).scalar_one()
    assert timedelta(hours=23, minutes=59) < locked_until - datetime.now(UTC) <= timedelta(hours=24)


def test_successful_login_resets_the_counter(runtime, browser) -> None:
    clerk = demo_account("clerk")
    for _ in range(4):
        browser.login(clerk.login, "falsches-Passwort")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    with runtime.engine.connect() as conn:
        failed = conn.execute(sa.select(accounts.c.failed_logins).where(accounts.c.id == clerk.account_id))
        assert failed.scalar_one() == 0


def test_login_without_pending_request_goes_to_the_portal(browser) -> None:
    admin = demo_account("company_admin")
    response = browser.login(admin.login, admin.password)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://portal.test/"


# -- activation ----------------------------------------------------------------------------------------------
def pending_apprentice(runtime, *, number: str, expires_in: timedelta) -> tuple[Account, str]:
    now = datetime.now(UTC)
    account = Account(
        id=uuid.uuid4(), email=f"azubi-{number}@example.org", name="Paul Probst", created_at=now
    )
    account.make_apprentice(number)
    code = account.issue_activation_code(
        now - timedelta(days=1), expires_in + timedelta(days=1), runtime.code_hasher
    )
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()
    return account, code


def activate(form_post, number: str, code: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    return form_post(
        "/activate",
        apprentice_number=number,
        activation_code=code,
        password=password,
        password_repeat=repeat if repeat is not None else password,
    )


def activated_events(runtime) -> list[str]:
    with runtime.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(outbox.c.body).where(outbox.c.event_type == "identity.account.activated")
            ).scalars()
        )


def test_activation_then_login(runtime, browser, form_post) -> None:
    account, code = pending_apprentice(runtime, number="20260500", expires_in=timedelta(days=29))
    response = activate(form_post, "20260500", code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "Ihr Account ist aktiviert" in text(browser.client.get("/login"))
    assert browser.login("20260500", "Mein-neues-Passwort-2026").status_code == 302
    [event] = activated_events(runtime)
    assert str(account.id) in event


def test_a_code_printed_before_the_keyed_hash_still_activates(runtime, browser, form_post) -> None:
    account, code = pending_apprentice(runtime, number="20260506", expires_in=timedelta(days=29))
    # As identity stored it before the keyed hash: the code's argon2id hash.
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == str(account.id))
            .values(activation_code_hash=runtime.hasher.hash(code))
        )
    assert activate(form_post, "20260506", "AAAA-BBBB-CCCC").status_code == 422
    response = activate(form_post, "20260506", code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert browser.login("20260506", NEW_PASSWORD).status_code == 302


def test_activation_continues_a_pending_authorization(runtime, browser, form_post) -> None:
    _, code = pending_apprentice(runtime, number="20260501", expires_in=timedelta(days=1))
    params = browser.authorize_params()
    assert browser.authorize(**params).headers["Location"].endswith("/login")
    response = activate(form_post, "20260501", code)
    assert response.status_code == 302
    assert "/authorize?" in response.headers["Location"]
    back_to_client = browser.client.get(response.headers["Location"])
    assert back_to_client.status_code == 302
    location = back_to_client.headers["Location"]
    assert location.startswith(browser.redirect_uri + "?code=")
    assert f"state={params['state']}" in location


def test_expired_code_gets_a_clear_message(runtime, form_post) -> None:
    _, code = pending_apprentice(runtime, number="20260502", expires_in=timedelta(seconds=-1))
    response = activate(form_post, "20260502", code)
    assert response.status_code == 422
    assert "Der Aktivierungscode ist abgelaufen" in text(response)
    assert "IHK" in text(response)
    assert activated_events(runtime) == []


def test_used_code_gets_a_clear_message(runtime, form_post) -> None:
    _, code = pending_apprentice(runtime, number="20260503", expires_in=timedelta(days=10))
    assert activate(form_post, "20260503", code).status_code == 302
    again = activate(form_post, "20260503", code, "Ein-anderes-Passwort-1")
    assert again.status_code == 409
    assert "bereits verwendet" in text(again)
    assert len(activated_events(runtime)) == 1


def test_wrong_code_and_unknown_number_get_the_same_message(runtime, form_post) -> None:
    pending_apprentice(runtime, number="20260504", expires_in=timedelta(days=10))
    for number in ("20260504", "20269998"):
        response = activate(form_post, number, "AAAA-BBBB-CCCC")
        assert response.status_code == 422
        assert "Azubinummer oder Aktivierungscode ist ungültig." in text(response)


def test_password_policy_and_repeat_are_checked(runtime, form_post) -> None:
    _, code = pending_apprentice(runtime, number="20260505", expires_in=timedelta(days=10))
    short = activate(form_post, "20260505", code, "zu-kurz")
    assert short.status_code == 422 and "mindestens 12" in text(short)
    mismatch = activate(form_post, "20260505", code, "Mein-neues-Passwort-2026", "Mein-anderes-Passwort-2026")
    assert mismatch.status_code == 422 and "stimmen nicht überein" in text(mismatch)
    assert 'aria-describedby="password_repeat-fehler"' in text(mismatch)
    assert activated_events(runtime) == []

"""identity's login session lives on the server: a copied ``bp_idp_session`` cookie dies with it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from chassis.demo import demo_account
from identity.adapters.orm import outbox

COOKIE = "bp_idp_session"
PUBLIC_URL = "http://portal.test"
NEW_PASSWORD = "Mein-neues-Passwort-2026"


def copy_cookie(client: Any) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "not logged in: no session cookie"
    return cookie.value


def replaying_client(app: Any, cookie: str) -> Any:
    """Another browser that presents a saved copy of the cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def authorize_with(client: Any, browser: Any) -> Any:
    return client.get("/authorize", query_string=browser.authorize_params())


def gets_a_code(response: Any, browser: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(
        browser.redirect_uri + "?code="
    )


def requires_login(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith("/login")


def log_in_and_get_tokens(browser: Any, pkce: Any, key: str = "clerk") -> dict[str, Any]:
    person = demo_account(key)
    verifier, challenge = pkce()
    code, _ = browser.code_for(person.login, person.password, verifier, challenge)
    response = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200
    return response.get_json()


def test_a_copied_cookie_is_dead_after_logout(app, browser, pkce) -> None:
    tokens = log_in_and_get_tokens(browser, pkce)
    saved = copy_cookie(browser.client)
    # The copy works while the session lives: it is the login, nothing more.
    assert gets_a_code(authorize_with(replaying_client(app, saved), browser), browser)

    logout = browser.client.get(
        "/logout",
        query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": f"{PUBLIC_URL}/"},
    )
    assert logout.status_code == 302

    # The saved copy no longer gets a code without a password.
    assert requires_login(authorize_with(replaying_client(app, saved), browser))


def test_a_copied_cookie_is_dead_after_the_confirmed_logout(app, browser, csrf) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    saved = copy_cookie(browser.client)
    ask = browser.client.get("/logout")
    confirmed = browser.client.post("/logout", data={"csrf_token": csrf(ask.get_data(as_text=True))})
    assert confirmed.status_code == 200
    assert requires_login(authorize_with(replaying_client(app, saved), browser))


def test_a_new_login_ends_the_session_the_browser_had(app, browser) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    before = copy_cookie(browser.client)
    assert browser.login(clerk.login, clerk.password).status_code == 302
    assert requires_login(authorize_with(replaying_client(app, before), browser))
    assert gets_a_code(authorize_with(browser.client, browser), browser)


def test_a_new_password_ends_every_login_session_of_the_account(app, runtime, browser, form_post_for) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    saved = copy_cookie(browser.client)

    # Someone (the owner, say, who noticed the copy) sets a new password by the mail's link.
    post = form_post_for(app)
    assert post("/password/forgotten", login=clerk.login).status_code == 200
    with runtime.engine.connect() as conn:
        body = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == "identity.password_reset.requested")
        ).scalar_one()
    link = json.loads(body)["payload"]["reset_url"].removeprefix(f"{PUBLIC_URL}/auth")
    done = post(link, password=NEW_PASSWORD, password_repeat=NEW_PASSWORD)
    assert done.status_code == 200 and "Ihr neues Passwort ist gespeichert" in done.get_data(as_text=True)

    assert requires_login(authorize_with(replaying_client(app, saved), browser))
    assert requires_login(authorize_with(browser.client, browser))


def test_the_session_is_kept_only_as_a_hash_and_expires(app, runtime, browser) -> None:
    from identity.adapters.orm import login_sessions

    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    saved = copy_cookie(browser.client)
    session_id = app.session_interface.get_signing_serializer(app).loads(saved)["sid"]
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.select(login_sessions).where(login_sessions.c.account_id == clerk.account_id)
        ).all()
    [row] = rows
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest() != session_id
    lifetime = row.expires_at - row.auth_time
    assert lifetime == timedelta(hours=8)

    # Past its expiry the session is gone, whatever the cookie says.
    with runtime.engine.begin() as conn:
        conn.execute(
            sa.update(login_sessions)
            .where(login_sessions.c.id_hash == row.id_hash)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert requires_login(authorize_with(replaying_client(app, saved), browser))


def test_an_old_cookie_without_a_server_session_is_no_login(app, browser) -> None:
    """A cookie signed with the right key but naming no session (the format before
    server-side sessions: account id and login time) is not a login."""
    clerk = demo_account("clerk")
    app.test_client().get("/login")  # loads the signing key
    forged = app.session_interface.get_signing_serializer(app).dumps(
        {"account_id": clerk.account_id, "auth_time": int(datetime.now(UTC).timestamp())}
    )
    assert requires_login(authorize_with(replaying_client(app, forged), browser))

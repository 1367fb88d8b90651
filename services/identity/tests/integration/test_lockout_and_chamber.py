"""Lockout and its containment on a real PostgreSQL: one answer for unknown, wrong and locked, the
owner told, the lock lifted by a reset or by the chamber; the chamber's API and the audit log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from chassis.demo import demo_account
from identity.adapters.orm import audit_records, outbox
from identity.domain.model import Account, AccountStatus
from identity.entrypoints.app import build_app

NEW_PASSWORD = "Mein-neues-Passwort-2026"
ADMIN_PASSWORD = "Kammer-Admin-Passwort-2026"
ADMIN_EMAIL = "kammer-admin@ihk.example"


def text(response) -> str:
    return response.get_data(as_text=True)


def outbox_events(runtime, event_type: str) -> list[dict]:
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def lock(browser, login: str) -> None:
    for _ in range(5):
        browser.login(login, "falsches-Passwort")


def new_browser(app, browser):  # type: ignore[no-untyped-def]
    """Another browser (its own cookies) of the same client."""
    return type(browser)(app.test_client(), browser.client_id, browser.client_secret, browser.redirect_uri)


def tokens_for(browser, pkce, login: str, password: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    verifier, challenge = pkce()
    code, _ = browser.code_for(login, password, verifier, challenge)
    response = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200, text(response)
    return response.get_json()


@pytest.fixture
def chamber_admin(runtime) -> Account:
    account = Account(
        id=uuid.uuid4(),
        email=ADMIN_EMAIL,
        name="Kammer Admin",
        status=AccountStatus.ACTIVE,
        password_hash=runtime.hasher.hash(ADMIN_PASSWORD),
        roles=["chamber_admin"],
        created_at=datetime.now(UTC),
    )
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()
    return account


@pytest.fixture
def bearer(app, browser, pkce, chamber_admin) -> dict[str, dict[str, str]]:
    """Authorization headers per caller: chamber admin, clerk, company admin, apprentice."""
    people = {
        "chamber_admin": (ADMIN_EMAIL, ADMIN_PASSWORD),
        **{
            key: (demo_account(key).login, demo_account(key).password)
            for key in ("clerk", "company_admin", "apprentice")
        },
    }
    return {
        key: {
            "Authorization": f"Bearer {tokens_for(new_browser(app, browser), pkce, *creds)['access_token']}"
        }
        for key, creds in people.items()
    }


def test_unknown_wrong_and_locked_get_one_answer_and_the_owner_one_mail(runtime, browser) -> None:
    trainer = demo_account("trainer")
    lock(browser, trainer.login)
    answers = [
        browser.login("niemand@example.org", trainer.password),
        browser.login(demo_account("clerk").login, "falsches-Passwort"),
        browser.login(trainer.login, trainer.password),  # locked: even the right password
    ]
    assert {a.status_code for a in answers} == {200}
    messages = {text(a).split('role="alert">')[1].split("</p>")[0] for a in answers}
    assert len(messages) == 1
    [locked] = outbox_events(runtime, "identity.account.locked_out")
    assert locked["payload"]["account_id"] == trainer.account_id
    assert locked["payload"]["password_forgotten_url"] == "http://portal.test/auth/password/forgotten"
    with runtime.engine.connect() as conn:
        kinds = (
            conn.execute(
                sa.select(audit_records.c.kind).where(
                    audit_records.c.account_id == uuid.UUID(trainer.account_id)
                )
            )
            .scalars()
            .all()
        )
    assert kinds.count("login.failed") >= 5 and kinds.count("account.locked_out") == 1


def test_a_reset_lifts_the_lock_ends_the_sessions_and_revokes_the_tokens(
    app, runtime, browser, pkce, form_post
) -> None:
    trainer = demo_account("trainer")
    logged_in = new_browser(app, browser)
    tokens = tokens_for(logged_in, pkce, trainer.login, trainer.password)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert logged_in.client.get("/userinfo", headers=headers).status_code == 200
    lock(browser, trainer.login)
    form_post("/password/forgotten", login=trainer.login)  # works while locked
    [event] = outbox_events(runtime, "identity.password_reset.requested")
    path = event["payload"]["reset_url"].removeprefix("http://portal.test/auth")
    assert form_post(path, password=NEW_PASSWORD, password_repeat=NEW_PASSWORD).status_code == 200
    # The lock is gone: the new password logs in.
    assert new_browser(app, browser).login(trainer.login, NEW_PASSWORD).status_code == 302
    # The old login session at identity ended: authorize asks for a login again.
    again = logged_in.authorize(**logged_in.authorize_params())
    assert again.status_code == 302 and again.headers["Location"].endswith("/login")
    # And the tokens issued before are revoked.
    assert logged_in.client.get("/userinfo", headers=headers).status_code == 401
    assert (
        logged_in.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400
    )
    [changed] = outbox_events(runtime, "identity.password.changed")
    assert changed["payload"]["how"] == "reset" and NEW_PASSWORD not in json.dumps(changed)


def test_the_lock_api_access_matrix_and_the_chamber_unlock(app, runtime, browser, bearer) -> None:
    trainer = demo_account("trainer")
    client = app.test_client()
    query = {"login": trainer.login}
    assert client.get("/account-locks", query_string=query).status_code == 401
    assert client.delete(f"/account-locks/{trainer.account_id}").status_code == 401
    for caller in ("apprentice", "company_admin"):
        assert client.get("/account-locks", query_string=query, headers=bearer[caller]).status_code == 403
        assert (
            client.delete(f"/account-locks/{trainer.account_id}", headers=bearer[caller]).status_code == 403
        )
    lock(browser, trainer.login)
    seen = client.get("/account-locks", query_string=query, headers=bearer["clerk"])
    assert seen.status_code == 200 and seen.get_json()["locked_until"] is not None
    assert "password_hash" not in seen.get_json()
    missing = client.get("/account-locks", query_string={"login": "20269999"}, headers=bearer["clerk"])
    assert missing.status_code == 404
    lifted = client.delete(f"/account-locks/{trainer.account_id}", headers=bearer["chamber_admin"])
    assert lifted.status_code == 200 and lifted.get_json()["locked_until"] is None
    assert new_browser(app, browser).login(trainer.login, trainer.password).status_code == 302


def test_the_audit_api_is_for_chamber_admins_and_pages(app, runtime, browser, bearer, chamber_admin) -> None:
    trainer = demo_account("trainer")
    lock(browser, trainer.login)
    client = app.test_client()
    assert client.get("/audit").status_code == 401
    for caller in ("apprentice", "company_admin", "clerk"):
        assert client.get("/audit", headers=bearer[caller]).status_code == 403
    first = client.get(
        "/audit", query_string={"account_id": trainer.account_id, "limit": 2}, headers=bearer["chamber_admin"]
    )
    assert first.status_code == 200
    page = first.get_json()
    assert len(page["items"]) == 2 and page["next_cursor"] and 'rel="next"' in first.headers["Link"]
    assert page["items"][0]["label"]
    rest = client.get(
        "/audit",
        query_string={"account_id": trainer.account_id, "cursor": page["next_cursor"], "limit": 100},
        headers=bearer["chamber_admin"],
    ).get_json()
    ids = [item["id"] for item in page["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) >= 6
    only_locks = client.get(
        "/audit", query_string={"kind": "account.locked_out"}, headers=bearer["chamber_admin"]
    ).get_json()
    assert [item["kind"] for item in only_locks["items"]] == ["account.locked_out"]
    bad = client.get("/audit", query_string={"kind": "nonsense"}, headers=bearer["chamber_admin"])
    assert bad.status_code == 422 and "kind" in text(bad)


def test_the_audit_table_is_append_only(runtime, browser) -> None:
    browser.login(demo_account("clerk").login, "falsches-Passwort")
    for statement in (sa.update(audit_records).values(kind="x"), sa.delete(audit_records)):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
            conn.execute(statement)


def test_build_app_registers_the_chamber_api(runtime) -> None:
    rules = {rule.rule for rule in build_app(runtime).url_map.iter_rules()}
    assert {"/account-locks", "/account-locks/<uuid:account_id>", "/audit"} <= rules

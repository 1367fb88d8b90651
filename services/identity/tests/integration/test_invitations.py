"""Account erstellen → invitation mail event → Zugang einrichten → login, on a real PostgreSQL;
and who may create accounts for a company (the access matrix of the invitation endpoints)."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from chassis.contracts.training import TrainerAdded, TrainerRemoved
from chassis.demo import DEMO_COMPANY, demo_account
from chassis.events.catalogue import validate_payload
from identity.adapters.orm import accounts, invitations, outbox

COMPANY = DEMO_COMPANY["company_number"]
OTHER_COMPANY = "9990001"
ISSUER = "http://portal.test/auth"
PASSWORD = "Mein-erstes-Passwort-2026"
INVALID = "Dieser Link ist ungültig oder abgelaufen."


def trainer_event(company: str = COMPANY, trainer_id: uuid.UUID | None = None, cls=TrainerAdded):  # type: ignore[no-untyped-def]
    return cls(
        trainer_id=trainer_id or uuid.uuid4(),
        company_number=company,
        first_name="Tina",
        last_name="Trainer",
        email="tina.trainer@example.org",
        qualified=True,
    )


def invited_events(runtime) -> list[dict]:  # type: ignore[no-untyped-def]
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.event_type == "identity.account.invited")
            .order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def invite(browser, token: str, company: str, trainer_id: uuid.UUID, email: str = "tina.trainer@example.org"):  # type: ignore[no-untyped-def]
    return browser.client.post(
        f"/companies/{company}/trainers/{trainer_id}/invitation",
        json={"email": email},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_company_admin_creates_a_trainers_account_who_sets_the_password(
    runtime, browser, deliver, access_token_for, form_post
) -> None:
    event = trainer_event()
    deliver(event)
    answer = invite(browser, access_token_for("company_admin"), COMPANY, event.trainer_id)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json()["account_status"] == "invited"
    [invited] = invited_events(runtime)
    validate_payload(invited["type"], invited["version"], invited["payload"])
    payload = invited["payload"]
    assert payload["trainer_id"] == str(event.trainer_id) and payload["company_role"] == "trainer"
    url = payload["invite_url"]
    assert url.startswith(f"{ISSUER}/invitation/")
    token = url.removeprefix(f"{ISSUER}/invitation/")
    with runtime.engine.connect() as conn:
        stored = conn.execute(sa.select(invitations.c.token_hash)).scalars().all()
    assert token not in stored  # only the hash

    page = browser.client.get(url.removeprefix(ISSUER))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Zugang einrichten</h1>" in html and 'name="csrf_token"' in html
    done = form_post(url.removeprefix(ISSUER), password=PASSWORD, password_repeat=PASSWORD)
    assert done.status_code == 200 and "Zugang eingerichtet" in done.get_data(as_text=True)
    # The link works once.
    again = browser.client.get(url.removeprefix(ISSUER))
    assert again.status_code == 410 and INVALID in again.get_data(as_text=True)

    login = browser.login("tina.trainer@example.org", PASSWORD)
    assert login.status_code == 302
    with runtime.engine.connect() as conn:
        roles = conn.execute(
            sa.select(accounts.c.company_roles).where(accounts.c.email == "tina.trainer@example.org")
        ).scalar_one()
    assert roles == {COMPANY: ["trainer"]}


def test_a_wrong_password_repeat_and_a_short_password_are_named(
    runtime, browser, deliver, access_token_for, form_post
) -> None:
    event = trainer_event()
    deliver(event)
    invite(browser, access_token_for("company_admin"), COMPANY, event.trainer_id)
    path = invited_events(runtime)[0]["payload"]["invite_url"].removeprefix(ISSUER)
    short = form_post(path, password="kurz", password_repeat="kurz")
    assert short.status_code == 422 and 'aria-invalid="true"' in short.get_data(as_text=True)
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(invitations.c.used_at)).scalar_one() is None


def test_a_removed_trainer_gets_no_account(browser, deliver, access_token_for) -> None:
    event = trainer_event()
    deliver(event)
    deliver(trainer_event(trainer_id=event.trainer_id, cls=TrainerRemoved))
    assert invite(browser, access_token_for("company_admin"), COMPANY, event.trainer_id).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("trainer", 403),  # the company's trainer may see it, not create accounts
        ("clerk", 403),
        ("apprentice", 404),
    ],
)
def test_only_the_companys_administrators_create_accounts(
    browser, deliver, access_token_for, runtime, who, status
) -> None:  # type: ignore[no-untyped-def]
    event = trainer_event()
    deliver(event)
    assert invite(browser, access_token_for(who), COMPANY, event.trainer_id).status_code == status
    assert invited_events(runtime) == []


def test_company_a_cannot_invite_company_bs_trainers_or_apprentices(
    browser, deliver, access_token_for, runtime
) -> None:
    event = trainer_event(OTHER_COMPANY)
    deliver(event)
    token = access_token_for("company_admin")
    # Through its own company number: unknown there; through the other's: not the caller's company.
    assert invite(browser, token, COMPANY, event.trainer_id).status_code == 404
    assert invite(browser, token, OTHER_COMPANY, event.trainer_id).status_code == 404
    apprentice = browser.client.post(
        f"/companies/{OTHER_COMPANY}/apprentices/20260001/invitation",
        json={"email": "x@example.org"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert apprentice.status_code == 404
    assert invited_events(runtime) == []


def test_anonymous_and_bad_input_are_refused(browser, deliver, access_token_for) -> None:
    event = trainer_event()
    deliver(event)
    anonymous = browser.client.post(
        f"/companies/{COMPANY}/trainers/{event.trainer_id}/invitation", json={"email": "a@example.org"}
    )
    assert anonymous.status_code == 401
    bad = invite(browser, access_token_for("company_admin"), COMPANY, event.trainer_id, email="keine-adresse")
    assert bad.status_code == 422
    assert "email" in json.dumps(bad.get_json())


def test_an_active_accounts_trainer_gets_the_role_without_a_link(
    runtime, browser, deliver, access_token_for
) -> None:
    event = trainer_event()
    deliver(event)
    active = demo_account("apprentice")  # an active account, not yet anyone's trainer
    answer = invite(browser, access_token_for("company_admin"), COMPANY, event.trainer_id, active.email)
    assert answer.status_code == 202 and answer.get_json()["account_status"] == "active"
    [invited] = invited_events(runtime)
    assert invited["payload"]["invite_url"] is None and invited["payload"]["account_status"] == "active"
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(invitations)).all() == []
        roles = conn.execute(
            sa.select(accounts.c.company_roles).where(accounts.c.email == active.email)
        ).scalar_one()
    assert roles == {COMPANY: ["trainer"]}

"""Company registered → Aktivierungscode event → Zugang freischalten → the admin role in the refreshed
token's claims; an apprentice's code binds a logged-in account. On a real PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from chassis.contracts.training import CompanyRegistered
from chassis.demo import demo_account
from chassis.events.catalogue import validate_payload
from identity.adapters.orm import accounts, outbox
from identity.domain.model import Account, NewActivationCode

NEW_COMPANY = "4712001"


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def code_events(runtime) -> list[dict]:  # type: ignore[no-untyped-def]
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.event_type == "identity.access_code.issued")
            .order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def register_company(deliver, number: str = NEW_COMPANY) -> None:  # type: ignore[no-untyped-def]
    deliver(
        CompanyRegistered(
            company_number=number,
            name="Neue Technik GmbH",
            email="info@neue-technik.example",
            street="Hauptstraße 1",
            postal_code="34117",
            city="Kassel",
            head_office_number=None,
        )
    )


def redeem(browser, token: str, number: str, code: str, kind: str = "company"):  # type: ignore[no-untyped-def]
    return browser.client.post(
        "/access-codes/redeem",
        json={"kind": kind, "number": number, "code": code},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_letters_code_makes_a_logged_in_person_administrator(
    runtime, browser, deliver, tokens_for
) -> None:
    register_company(deliver)
    [event] = code_events(runtime)
    validate_payload(event["type"], event["version"], event["payload"])
    code = event["payload"]["activation_code"]
    tokens = tokens_for("trainer")
    assert NEW_COMPANY not in claims(tokens["access_token"])["company_roles"]

    answer = redeem(browser, tokens["access_token"], NEW_COMPANY, code)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    # The portal refreshes its token set: the new access token carries the role.
    refreshed = browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    fresh = refreshed.get_json()["access_token"]
    assert claims(fresh)["company_roles"][NEW_COMPANY] == ["admin"]

    again = redeem(browser, fresh, NEW_COMPANY, code)
    assert again.status_code == 422 and again.get_json()["type"].endswith("access-code-used")


def test_unknown_number_and_wrong_code_answer_alike(runtime, browser, deliver, access_token_for) -> None:
    register_company(deliver)
    code = code_events(runtime)[0]["payload"]["activation_code"]
    token = access_token_for("trainer")
    answers = {
        label: redeem(browser, token, number, typed)
        for label, number, typed in (("unknown", "9999999", code), ("wrong", NEW_COMPANY, "AAAA-BBBB-CCCC"))
    }
    assert {a.status_code for a in answers.values()} == {422}
    assert answers["unknown"].get_json() == answers["wrong"].get_json()
    assert answers["unknown"].get_json()["type"].endswith("access-code-invalid")


def test_anonymous_is_refused_and_bad_input_named(browser, access_token_for) -> None:
    anonymous = browser.client.post(
        "/access-codes/redeem", json={"kind": "company", "number": "1", "code": "x"}
    )
    assert anonymous.status_code == 401
    bad = redeem(browser, access_token_for("trainer"), NEW_COMPANY, "ABCD", kind="anything")
    assert bad.status_code == 422 and "kind" in json.dumps(bad.get_json())


def test_an_apprentices_code_binds_the_logged_in_account(runtime, browser, tokens_for) -> None:
    """The pending account's Azubinummer moves to the active account in one transaction (unique index)."""
    now_code = NewActivationCode.generate(runtime.code_hasher)
    pending_id = uuid.uuid4()
    with runtime.uow_factory() as uow:
        pending = Account(
            id=pending_id, email="paul.probst@example.org", name="Paul Probst", created_at=datetime.now(UTC)
        )
        pending.make_apprentice("20269001")
        pending.accept_activation_code(now_code, datetime.now(UTC), timedelta(days=30))
        uow.accounts.add(pending)
        uow.commit()
    tokens = tokens_for("company_admin")
    answer = redeem(browser, tokens["access_token"], "20269001", now_code.code, kind="apprentice")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with runtime.engine.connect() as conn:
        rows = {str(i): n for i, n in conn.execute(sa.select(accounts.c.id, accounts.c.apprentice_number))}
    assert rows[demo_account("company_admin").account_id] == "20269001"
    assert rows[str(pending_id)] is None
    refreshed = browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    token_claims = claims(refreshed.get_json()["access_token"])
    assert token_claims["apprentice_number"] == "20269001" and "apprentice" in token_claims["roles"]

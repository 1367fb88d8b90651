"""Zugangsdaten erneut anfordern (public page, neutral answer) → the chamber fulfils → a new code
replaces the old one (identity.access_code.issued). On a real PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from chassis.demo import DEMO_COMPANY
from identity.adapters.orm import access_data_requests, outbox

PAGE = "/access-data/request"
COMPANY = DEMO_COMPANY["company_number"]


def code_events(runtime) -> list[dict]:  # type: ignore[no-untyped-def]
    with runtime.engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.event_type == "identity.access_code.issued")
            .order_by(outbox.c.position)
        ).scalars()
        return [json.loads(body) for body in bodies]


def ask(form_post, kind: str, number: str, name: str = "Markus Muster"):  # type: ignore[no-untyped-def]
    return form_post(PAGE, kind=kind, number=number, contact_name=name)


def test_the_page_is_german_and_labelled(browser) -> None:
    page = browser.client.get(PAGE).get_data(as_text=True)
    assert '<html lang="de">' in page and "Zugangsdaten erneut anfordern</h1>" in page
    assert "<legend>Für wen fordern Sie Zugangsdaten an?</legend>" in page
    assert '<label for="number">Identnummer bzw. Azubinummer</label>' in page and 'name="csrf_token"' in page


def test_the_same_answer_for_known_and_unknown_numbers(form_post, runtime) -> None:
    known = ask(form_post, "company", COMPANY)
    unknown = ask(form_post, "company", "1234567")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    # Asking again while a request is open adds nothing.
    ask(form_post, "company", COMPANY)
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(access_data_requests)).scalar_one() == 2


def test_bad_input_is_named(form_post) -> None:
    answer = form_post(PAGE, kind="company", number="abc", contact_name="")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Die Nummer besteht nur aus Ziffern." in page and "Bitte geben Sie Ihren Namen ein." in page


def test_the_chamber_fulfils_a_request_with_a_new_code(form_post, browser, access_token_for, runtime) -> None:
    ask(form_post, "company", COMPANY)
    ask(form_post, "company", "1234567")
    clerk = {"Authorization": f"Bearer {access_token_for('clerk')}"}
    listed = browser.client.get("/access-data-requests", headers=clerk)
    assert listed.status_code == 200
    by_number = {r["number"]: r for r in listed.get_json()}
    done = browser.client.post(f"/access-data-requests/{by_number[COMPANY]['id']}/fulfil", headers=clerk)
    assert done.status_code == 200 and done.get_json()["outcome"] == "issued"
    [event] = code_events(runtime)
    assert event["payload"]["number"] == COMPANY and event["payload"]["reason"] == "requested"
    assert event["payload"]["street"] == DEMO_COMPANY["street"]
    nothing = browser.client.post(f"/access-data-requests/{by_number['1234567']['id']}/fulfil", headers=clerk)
    assert nothing.get_json()["outcome"] == "nothing_to_issue"
    again = browser.client.post(f"/access-data-requests/{by_number[COMPANY]['id']}/fulfil", headers=clerk)
    assert again.status_code == 409
    assert browser.client.get("/access-data-requests", headers=clerk).get_json() == []
    assert len(code_events(runtime)) == 1


@pytest.mark.parametrize("who", ["company_admin", "trainer", "apprentice"])
def test_only_chamber_clerks_see_and_fulfil_requests(
    form_post, browser, access_token_for, runtime, who
) -> None:
    ask(form_post, "company", COMPANY)
    headers = {"Authorization": f"Bearer {access_token_for(who)}"}
    assert browser.client.get("/access-data-requests", headers=headers).status_code == 404
    with runtime.engine.connect() as conn:
        request_id = conn.execute(sa.select(access_data_requests.c.id)).scalar_one()
    assert (
        browser.client.post(f"/access-data-requests/{request_id}/fulfil", headers=headers).status_code == 404
    )
    assert browser.client.get("/access-data-requests").status_code == 401
    assert code_events(runtime) == []

"""A creating form sent twice creates once: its one-time token, the stored outcome, the Idempotency-Key."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from gateway.web.services import ServiceError
from gateway.web.store import create_schema, create_store_engine, form_submissions
from gateway.web.submissions import Claim, FormSubmissions, is_token, new_token

URL = "/ausbildungsverhaeltnisse/neu"


def the_form(client, csrf, once, **overrides: str) -> dict[str, str]:
    html = client.get(URL).get_data(as_text=True)
    form = {
        "csrf_token": csrf(html),
        "form_token": once(html),
        "company_number": "4711001",
        "first_name": "Jonas",
        "last_name": "Neumann",
        "birth_date": "14.03.2008",
        "email": "jonas@example.test",
        "occupation_code": "78100",
        "start_date": "01.08.2026",
        "end_date": "31.07.2029",
        "probation_months": "4",
    }
    form.update(overrides)
    return form


def test_the_same_form_posted_twice_registers_one_contract(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    form = the_form(client, csrf_token, form_token)
    first = client.post(URL, data=form)
    again = client.post(URL, data=form)
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert len(fake_services.registered) == 1
    # The service hears the token as the Idempotency-Key of the creating call.
    assert fake_services.idempotency_keys == [form["form_token"]]
    # The retry is told what happened, as the first was.
    listing = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Das Ausbildungsverhältnis wurde eingetragen." in listing


def test_each_rendered_form_has_its_own_token(client, login, csrf_token, form_token) -> None:
    login("clerk")
    first, second = the_form(client, csrf_token, form_token), the_form(client, csrf_token, form_token)
    assert is_token(first["form_token"]) and is_token(second["form_token"])
    assert first["form_token"] != second["form_token"]


def test_two_forms_register_two_contracts(client, login, fake_services, csrf_token, form_token) -> None:
    login("clerk")
    client.post(URL, data=the_form(client, csrf_token, form_token))
    client.post(URL, data=the_form(client, csrf_token, form_token, first_name="Jana"))
    assert [new.first_name for new in fake_services.registered] == ["Jonas", "Jana"]


def test_a_refused_form_may_be_corrected_and_sent_again(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    fake_services.failures["register_contract"] = ServiceError(
        422, {"errors": [{"pointer": "#/apprentice/birth_date", "detail": "too young"}]}
    )
    form = the_form(client, csrf_token, form_token)
    refused = client.post(URL, data=form)
    assert refused.status_code == 422
    # Corrected input is a new submission: a new token, so the service does not see a reused key.
    fresh = form_token(refused.get_data(as_text=True))
    assert fresh != form["form_token"]
    del fake_services.failures["register_contract"]
    accepted = client.post(URL, data={**form, "form_token": fresh, "birth_date": "14.03.2000"})
    assert accepted.status_code == 303
    assert len(fake_services.registered) == 1


def test_after_an_outage_the_retry_keeps_the_token(
    client, login, fake_services, csrf_token, form_token
) -> None:
    """Maybe created, maybe not: the retry sends the same Idempotency-Key, so the service can tell."""
    login("clerk")
    fake_services.failures["register_contract"] = ServiceError(504)
    form = the_form(client, csrf_token, form_token)
    failed = client.post(URL, data=form)
    assert failed.status_code == 422
    assert form_token(failed.get_data(as_text=True)) == form["form_token"]
    del fake_services.failures["register_contract"]
    assert client.post(URL, data=form).status_code == 303
    assert fake_services.idempotency_keys == [form["form_token"]]


@pytest.mark.parametrize("token", ["", "kurz", "x" * 65, "ungültig-" + "x" * 40])
def test_a_form_without_a_valid_token_is_shown_again_with_a_fresh_one(
    client, login, fake_services, csrf_token, form_token, token: str
) -> None:
    login("clerk")
    response = client.post(URL, data=the_form(client, csrf_token, form_token, form_token=token))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Das Formular war nicht mehr gültig" in html
    assert is_token(form_token(html))
    assert 'value="Neumann"' in html
    assert fake_services.registered == []


def test_another_users_token_gets_nothing(client, login, fake_services, csrf_token, form_token) -> None:
    login("clerk")
    form = the_form(client, csrf_token, form_token)
    assert client.post(URL, data=form).status_code == 303
    login("clerk")  # another clerk, signed in in this browser now
    again = client.post(
        URL, data={**the_form(client, csrf_token, form_token), "form_token": form["form_token"]}
    )
    assert again.status_code == 400
    assert len(fake_services.registered) == 1


# -- the store ------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'web.db'}"
    else:
        url = request.getfixturevalue("make_database")("web")
    engine = create_store_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()


def test_concurrent_submissions_of_one_form_create_once(engine: Engine) -> None:
    store = FormSubmissions(engine, wait_for_first=5)
    token = new_token()
    start = threading.Barrier(4)
    created: list[str] = []
    seen: list[Claim] = []

    def submit() -> None:
        start.wait(timeout=10)
        submission = store.claim(token, "user-1")
        seen.append(submission.claim)
        if submission.claim is Claim.FIRST:
            time.sleep(0.3)  # the API call
            created.append("contract")
            store.done(token, "/ausbildungsverhaeltnisse?neu=c-1")

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert created == ["contract"]
    assert sorted(seen) == sorted([Claim.FIRST, Claim.DONE, Claim.DONE, Claim.DONE])
    assert store.claim(token, "user-1").outcome == "/ausbildungsverhaeltnisse?neu=c-1"


def test_a_running_first_submission_is_reported_not_repeated(engine: Engine) -> None:
    store = FormSubmissions(engine, wait_for_first=0.2)
    token = new_token()
    assert store.claim(token, "user-1").claim is Claim.FIRST
    assert store.claim(token, "user-1").claim is Claim.RUNNING
    store.release(token)
    assert store.claim(token, "user-1").claim is Claim.FIRST


def test_a_token_belongs_to_one_user(engine: Engine) -> None:
    store = FormSubmissions(engine)
    token = new_token()
    store.claim(token, "user-1")
    store.done(token, "/x")
    with pytest.raises(PermissionError):
        store.claim(token, "user-2")


def test_old_outcomes_are_deleted(engine: Engine) -> None:
    from datetime import timedelta

    store = FormSubmissions(engine)
    store.claim(new_token(), "user-1")
    store.delete_old()
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(form_submissions)).scalar_one() == 1
    store.delete_old(timedelta(seconds=-1))
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(form_submissions)).scalar_one() == 0

"""The register's contract pages: the chamber's search, the states, the terms, the history ("Verlauf")
and the steps of a contract's life."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from gateway.web.services import (
    ContractChange,
    ContractFilters,
    ContractTerms,
    ServiceError,
    Trainer,
    TrainerRef,
)

LIST = "/ausbildungsverhaeltnisse"


def text(html: str) -> str:
    """The page's words: tags are gaps, but a line-break hint (<wbr>) is not, and &nbsp; is a space."""
    html = html.replace("<wbr>", "").replace("&nbsp;", " ")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- the list ---------------------------------------------------------------------------------------


def test_the_chamber_filters_the_register(client, login, fake_services, make_contract) -> None:
    fake_services.contract_list = [make_contract()]
    login("clerk")
    response = client.get(
        LIST,
        query_string={
            "name": " Lern ",
            "apprentice_number": "20260001",
            "company_number": "4711001",
            "occupation_code": "78100",
            "state": "interrupted",
            "start_from": "01.08.2026",
            "start_until": "2026-08-31",
            "registered_from": "",
            "registered_until": "31.12.2026",
        },
    )
    assert response.status_code == 200
    assert fake_services.contract_filters == [
        ContractFilters(
            name="Lern",
            apprentice_number="20260001",
            company_number="4711001",
            occupation_code="78100",
            state="interrupted",
            start_from=date(2026, 8, 1),
            start_until=date(2026, 8, 31),
            registered_until=date(2026, 12, 31),
        )
    ]
    html = response.get_data(as_text=True)
    assert "Ausbildungsverhältnisse (gefiltert)" in html
    # What was typed stays in the form.
    assert 'value="01.08.2026"' in html and '<option selected value="interrupted">' in html


def test_the_next_page_keeps_the_filters(client, login, fake_services, make_contract) -> None:
    from gateway.web.services import ContractPage

    asked: list[tuple[str | None, ContractFilters | None]] = []

    def contracts(*, cursor: str | None = None, filters: ContractFilters | None = None) -> ContractPage:
        asked.append((cursor, filters))
        return ContractPage(items=[make_contract()], next_cursor="CURSOR2", cursor=cursor)

    fake_services.contracts = contracts
    login("clerk")
    html = client.get(LIST, query_string={"name": "Lern", "state": "registered"}).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Nächste Seite</a>', html)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "weiter=CURSOR2" in target and "name=Lern" in target and "state=registered" in target
    client.get(target)
    assert asked[1] == ("CURSOR2", ContractFilters(name="Lern", state="registered"))


def test_invalid_filters_are_explained_and_nothing_is_listed(
    client, login, fake_services, make_contract
) -> None:
    fake_services.contract_list = [make_contract()]
    login("clerk")
    response = client.get(LIST, query_string={"start_from": "31.02.2026", "start_until": "01.01.2026"})
    html = response.get_data(as_text=True)
    assert fake_services.contract_filters == []
    assert "Bitte korrigieren Sie die Suchangaben." in html
    assert "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein." in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="start_from"', html)
    assert "Lena Lernwillig" not in html


def test_a_filter_the_service_refuses_lands_on_its_field(client, login, fake_services) -> None:
    fake_services.failures["contracts"] = ServiceError(
        422, {"errors": [{"pointer": "#/name", "detail": "Longer than maximum length 100."}]}
    )
    login("clerk")
    html = client.get(LIST, query_string={"name": "x"}).get_data(as_text=True)
    assert "Die Angabe im Feld „Name“ ist zu lang oder zu kurz." in html


def test_companies_get_no_filters_but_the_trainer_column(client, login, fake_services, make_contract) -> None:
    fake_services.contract_list = [
        make_contract(trainer=TrainerRef("t-1", "Anna Ausbilder")),
        make_contract(contract_id="c0ffee00-0000-4000-8000-000000000002", state="terminated"),
    ]
    login("company_admin")
    html = client.get(LIST).get_data(as_text=True)
    assert 'id="suche-titel"' not in html
    assert '<th scope="col">Ausbilder/-in</th>' in html
    assert '<td data-label="Ausbilder/-in">Anna Ausbilder</td>' in html
    assert '<td data-label="Ausbilder/-in">nicht zugeordnet</td>' in html
    assert '<span class="badge badge--ended">vorzeitig gelöst</span>' in html


@pytest.mark.parametrize(
    ("state", "label"),
    [
        ("registered", "eingetragen"),
        ("interrupted", "unterbrochen"),
        ("completed", "abgeschlossen"),
        ("terminated", "vorzeitig gelöst"),
    ],
)
def test_states_have_german_labels(
    client, login, fake_services, make_contract, state: str, label: str
) -> None:
    fake_services.contract_list = [make_contract(state=state)]
    login("clerk")
    html = client.get(LIST).get_data(as_text=True)
    assert re.search(rf'<span class="badge badge--\w+">{label}</span>', html)


@pytest.mark.parametrize(
    ("account", "symbol", "words"),
    [
        ("active", "active", "aktiv"),
        ("prepared", "prepared", "vorbereitet"),
        ("none", "none", "noch nicht angelegt"),
    ],
)
def test_the_account_state_is_a_symbol_with_words(
    client, login, fake_services, make_contract, account: str, symbol: str, words: str
) -> None:
    fake_services.contract_list = [make_contract(account_state=account)]
    login("company_admin")
    html = client.get(LIST).get_data(as_text=True)
    assert (
        f'<span class="account-state account-state--{symbol}"><span class="account-state__symbol" '
        f'aria-hidden="true"></span>Account: {words}</span>'
    ) in html


# -- the contract page ------------------------------------------------------------------------------


def test_the_contract_page_shows_terms_and_history(client, login, fake_services, make_contract) -> None:
    item = make_contract(
        terms=ContractTerms(
            probation_months=3, part_time=True, shortened_by_months=6, specialism="Systemgastronomie"
        ),
        trainer=TrainerRef("t-2", "Bernd Neu"),
    )
    fake_services.contract_list = [item]
    fake_services.trainer_list = [Trainer("t-2", "4711001", "Bernd", "Neu", "b@example.test", True)]
    fake_services.history[item.contract_id] = [
        ContractChange("h1", "registered", date(2026, 6, 1), datetime(2026, 6, 1, 8, 0, tzinfo=UTC)),
        ContractChange(
            "h2",
            "extended",
            date(2029, 6, 1),
            datetime(2029, 6, 2, 9, 0, tzinfo=UTC),
            {"previous_end_date": "2029-07-31", "end_date": "2030-01-31", "note": "Wiederholungsprüfung"},
        ),
        ContractChange(
            "h3",
            "trainer_changed",
            date(2029, 6, 3),
            datetime(2029, 6, 3, 9, 0, tzinfo=UTC),
            {"previous_trainer_id": "t-gone", "trainer_id": "t-2"},
        ),
    ]
    login("clerk")
    html = text(client.get(f"{LIST}/{item.contract_id}").get_data(as_text=True))
    assert "Probezeit 3 Monate" in html
    assert "Teilzeit ja (Teilzeitausbildung)" in html
    assert "Verkürzung 6 Monate" in html
    assert "Fachrichtung Systemgastronomie" in html
    assert "Ausbilder/-in Bernd Neu" in html
    assert "Verlauf" in html
    assert (
        "01.06.2029 verlängert Ende bisher 31.07.2029 Ende neu 31.01.2030 Bemerkung: Wiederholungsprüfung"
        in html
    )
    assert "Ausbilder/-in gewechselt bisher: ehemalige/r Ausbilder/-in neu: Bernd Neu" in html
    assert "01.06.2026 eingetragen" in html


def test_the_chamber_gets_every_step_that_fits_the_state(client, login, fake_services, make_contract) -> None:
    running = make_contract()
    paused = make_contract(contract_id="c0ffee00-0000-4000-8000-000000000002", state="interrupted")
    ended = make_contract(contract_id="c0ffee00-0000-4000-8000-000000000003", state="completed")
    fake_services.contract_list = [running, paused, ended]
    login("clerk")

    def steps(contract_id: str) -> list[str]:
        html = client.get(f"{LIST}/{contract_id}").get_data(as_text=True)
        return re.findall(rf'href="{LIST}/{contract_id}/aendern/([a-z-]+)"', html)

    assert steps(running.contract_id) == [
        "verlaengern",
        "verkuerzen",
        "unterbrechen",
        "ausbilder-wechseln",
        "abschliessen",
        "loesen",
    ]
    assert "fortsetzen" in steps(paused.contract_id) and "unterbrechen" not in steps(paused.contract_id)
    assert steps(ended.contract_id) == []


def test_company_administrators_may_only_change_the_trainer(
    client, login, fake_services, make_contract
) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    login("company_admin")
    html = client.get(f"{LIST}/{item.contract_id}").get_data(as_text=True)
    assert re.findall(r'/aendern/([a-z-]+)"', html) == ["ausbilder-wechseln"]
    assert client.get(f"{LIST}/{item.contract_id}/aendern/verlaengern").status_code == 403
    assert client.post(f"{LIST}/{item.contract_id}/aendern/loesen", data={}).status_code in (400, 403)
    assert fake_services.changes == []


def test_trainers_of_a_company_get_no_steps(client, login, fake_services, make_contract) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    login("trainer")
    html = client.get(f"{LIST}/{item.contract_id}").get_data(as_text=True)
    assert "/aendern/" not in html
    assert client.get(f"{LIST}/{item.contract_id}/aendern/ausbilder-wechseln").status_code == 403


def test_the_chamber_extends_a_contract(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    login("clerk")
    url = f"{LIST}/{item.contract_id}/aendern/verlaengern"
    html = client.get(url).get_data(as_text=True)
    assert "<h1>Verlängern</h1>" in html
    form = {
        "csrf_token": csrf_token(html),
        "form_token": form_token(html),
        "end_date": "31.01.2030",
        "note": "Wiederholungsprüfung",
    }
    response = client.post(url, data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{LIST}/{item.contract_id}#verlauf"
    ((contract_id, change),) = fake_services.changes
    assert contract_id == item.contract_id
    assert change.as_json() == {"kind": "extended", "end_date": "2030-01-31", "note": "Wiederholungsprüfung"}
    assert fake_services.idempotency_keys == [form["form_token"]]
    # Sent again (a reload, a double click): the first outcome, no second change.
    again = client.post(url, data=form)
    assert again.status_code == 303 and len(fake_services.changes) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Die Verlängerung wurde eingetragen." in page


def test_a_termination_needs_a_date_and_a_reason(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    login("clerk")
    url = f"{LIST}/{item.contract_id}/aendern/loesen"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(html), "form_token": form_token(html)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte füllen Sie das Feld „Gelöst zum“ aus." in html
    assert "Bitte wählen Sie einen Eintrag im Feld „Grund“ aus." in html
    assert fake_services.changes == []
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "effective_on": "15.10.2026",
            "reason": "probation",
        },
    )
    assert response.status_code == 303
    assert fake_services.changes[0][1].as_json() == {
        "kind": "terminated",
        "effective_on": "2026-10-15",
        "reason": "probation",
    }


def test_a_rule_of_the_register_is_shown_in_german_at_its_field(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    fake_services.failures["change_contract"] = ServiceError(
        422, {"errors": [{"pointer": "#/reason", "detail": "That date is not within the probation period."}]}
    )
    login("clerk")
    url = f"{LIST}/{item.contract_id}/aendern/loesen"
    html = client.get(url).get_data(as_text=True)
    once = form_token(html)
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(html),
            "form_token": once,
            "effective_on": "15.10.2027",
            "reason": "probation",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="reason-error"><span class="visually-hidden">Fehler: </span>Das Datum liegt nicht in der Probezeit.',
        html,
    )
    assert form_token(html) != once  # refused: corrected input is a new submission


def test_a_state_problem_is_a_general_german_message(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract(state="interrupted")
    fake_services.contract_list = [item]
    fake_services.failures["change_contract"] = ServiceError(
        422, {"errors": [{"pointer": "#/state", "detail": "The contract is already interrupted."}]}
    )
    login("clerk")
    url = f"{LIST}/{item.contract_id}/aendern/fortsetzen"
    html = client.get(url).get_data(as_text=True)
    html = client.post(
        url,
        data={"csrf_token": csrf_token(html), "form_token": form_token(html), "effective_on": "01.02.2027"},
    ).get_data(as_text=True)
    assert "Das Ausbildungsverhältnis ist bereits unterbrochen." in html


def test_an_ended_contract_offers_no_step(client, login, fake_services, make_contract) -> None:
    item = make_contract(state="completed", ended_on=date(2029, 7, 1))
    fake_services.contract_list = [item]
    login("clerk")
    response = client.get(f"{LIST}/{item.contract_id}/aendern/verlaengern")
    assert response.status_code == 409
    assert "kann nicht mehr geändert werden" in response.get_data(as_text=True)
    assert client.get(f"{LIST}/{item.contract_id}/aendern/gibt-es-nicht").status_code == 404


def test_a_company_administrator_changes_the_trainer(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract(trainer=TrainerRef("t-1", "Anna Ausbilder"))
    fake_services.contract_list = [item]
    fake_services.trainer_list = [
        Trainer("t-1", "4711001", "Anna", "Ausbilder", "anna@example.test", True),
        Trainer("t-2", "4711001", "Bernd", "Neu", "bernd@example.test", False),
    ]
    login("company_admin")
    url = f"{LIST}/{item.contract_id}/aendern/ausbilder-wechseln"
    html = client.get(url).get_data(as_text=True)
    # The current trainer is not offered again; taking the trainer off is.
    assert '<option value="t-2">Bernd Neu</option>' in html
    assert 'value="t-1"' not in html
    assert '<option value="keine">keine Zuordnung</option>' in html
    response = client.post(
        url, data={"csrf_token": csrf_token(html), "form_token": form_token(html), "trainer_id": "t-2"}
    )
    assert response.status_code == 303
    assert fake_services.changes[0][1].as_json() == {"kind": "trainer_changed", "trainer_id": "t-2"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Die Ausbilderin bzw. der Ausbilder wurde geändert." in page
    assert "Bernd Neu" in page


def test_taking_the_trainer_off_sends_null(
    client, login, fake_services, make_contract, csrf_token, form_token
) -> None:
    item = make_contract(trainer=TrainerRef("t-1", "Anna Ausbilder"))
    fake_services.contract_list = [item]
    fake_services.trainer_list = [Trainer("t-1", "4711001", "Anna", "Ausbilder", "anna@example.test", True)]
    login("clerk")
    url = f"{LIST}/{item.contract_id}/aendern/ausbilder-wechseln"
    html = client.get(url).get_data(as_text=True)
    client.post(
        url, data={"csrf_token": csrf_token(html), "form_token": form_token(html), "trainer_id": "keine"}
    )
    assert fake_services.changes[0][1].as_json() == {"kind": "trainer_changed", "trainer_id": None}


# -- the register form's new terms ------------------------------------------------------------------


def register_form(csrf: str, once: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "form_token": once,
        "company_number": "4711001",
        "first_name": "Jonas",
        "last_name": "Neumann",
        "birth_date": "14.03.2008",
        "email": "jonas@example.test",
        "occupation_code": "fk-gastronomie",
        "specialism": "Systemgastronomie",
        "start_date": "01.08.2026",
        "end_date": "31.07.2029",
        "probation_months": "3",
        "shortened_by_months": "6",
        "part_time": "y",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_the_register_form_sends_the_terms(client, login, fake_services, csrf_token, form_token) -> None:
    login("clerk")
    html = client.get(f"{LIST}/neu").get_data(as_text=True)
    # Fachrichtungen grouped by their occupation.
    assert '<optgroup label="Fachkraft für Gastronomie"><option value="Restaurantservice">' in html
    response = client.post(f"{LIST}/neu", data=register_form(csrf_token(html), form_token(html)))
    assert response.status_code == 303
    body = fake_services.registered[0].as_json()
    assert (body["probation_months"], body["part_time"], body["shortened_by_months"], body["specialism"]) == (
        3,
        True,
        6,
        "Systemgastronomie",
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"probation_months": ""}, "Bitte wählen Sie einen Eintrag im Feld „Probezeit“ aus."),
        ({"probation_months": "5"}, "Bitte wählen Sie einen Eintrag aus der Liste „Probezeit“."),
        ({"specialism": ""}, "Bitte wählen Sie die Fachrichtung des Ausbildungsberufs."),
        (
            {"occupation_code": "78100"},
            "Der gewählte Ausbildungsberuf hat keine Fachrichtungen.",
        ),
        ({"shortened_by_months": "13"}, "Bitte wählen Sie einen Eintrag aus der Liste „Verkürzung“."),
    ],
)
def test_the_terms_are_checked_in_german(
    client, login, fake_services, csrf_token, form_token, overrides: dict[str, str], message: str
) -> None:
    login("clerk")
    html = client.get(f"{LIST}/neu").get_data(as_text=True)
    response = client.post(f"{LIST}/neu", data=register_form(csrf_token(html), form_token(html), **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fake_services.registered == []


def test_the_terms_problems_of_training_records_land_on_their_fields(
    client, login, fake_services, csrf_token, form_token
) -> None:
    fake_services.failures["register_contract"] = ServiceError(
        422,
        {
            "errors": [
                {
                    "pointer": "#/probation_months",
                    "detail": "The probation period lasts 1 to 4 months (BBiG §20).",
                },
                {
                    "pointer": "#/end_date",
                    "detail": "48 months is longer than Fachkraft allows (standard 24 months).",
                },
            ]
        },
    )
    login("clerk")
    html = client.get(f"{LIST}/neu").get_data(as_text=True)
    html = client.post(f"{LIST}/neu", data=register_form(csrf_token(html), form_token(html))).get_data(
        as_text=True
    )
    assert (
        'id="probation_months-error"' in html and "Die Probezeit beträgt 1 bis 4 Monate (BBiG § 20)." in html
    )
    assert 'id="end_date-error"' in html and "Die Ausbildung ist für diesen Beruf zu lang" in html

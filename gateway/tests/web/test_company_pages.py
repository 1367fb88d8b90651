"""Ausbilder/-in and the Ausbildungsatlas: a company's pages, and the public search."""

from __future__ import annotations

import re

import pytest

from gateway.web.services import (
    AssignedContract,
    AtlasEntry,
    AtlasHit,
    AtlasOffer,
    AtlasProfile,
    Company,
    Page,
    ServiceError,
    Trainer,
)

ANNA = Trainer(
    "11111111-1111-4111-8111-111111111111",
    "4711001",
    "Anna",
    "Ausbilder",
    "anna@example.test",
    True,
    (AssignedContract("c0ffee00-0000-4000-8000-000000000001", "2026-000001", "Lena Lernwillig"),),
)
BERND = Trainer(
    "22222222-2222-4222-8222-222222222222", "4711001", "Bernd", "Neu", "bernd@example.test", False
)


def text(html: str) -> str:
    """The page's words: tags are gaps, but a line-break hint (<wbr>) is not, and &nbsp; is a space."""
    html = html.replace("<wbr>", "").replace("&nbsp;", " ")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- Ausbilder/-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["company_admin", "company_manager"])
def test_the_trainer_list_shows_name_mail_qualification_and_contracts(
    client, login, fake_services, role
) -> None:
    fake_services.trainer_list = [ANNA, BERND]
    login(role)
    html = client.get("/ausbilder").get_data(as_text=True)
    assert "<h1>Ausbilder/-in</h1>" in html
    words = text(html)
    assert "Anna Ausbilder anna@example.test ja Lena Lernwillig Vertrag 2026-000001" in words
    assert "Bernd Neu bernd@example.test nein keine" in words
    assert 'href="/ausbildungsverhaeltnisse/c0ffee00-0000-4000-8000-000000000001"' in html
    assert f'href="/ausbilder/{BERND.trainer_id}"' in html


@pytest.mark.parametrize("role", ["trainer", "clerk", "apprentice"])
def test_only_company_administrators_and_managers_keep_trainers(client, login, role) -> None:
    login(role)
    assert client.get("/ausbilder").status_code == 403
    assert client.get("/ausbildungsatlas/eintraege").status_code == 403


def test_adding_a_trainer(client, login, fake_services, csrf_token, form_token) -> None:
    login("company_admin")
    html = client.get("/ausbilder/neu").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "form_token": form_token(html),
        "first_name": "Clara",
        "last_name": "Chef",
        "email": "clara@example.test",
        "qualified": "y",
    }
    response = client.post("/ausbilder/neu", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/ausbilder?betrieb=4711001"
    again = client.post("/ausbilder/neu", data=form)
    assert again.status_code == 303
    (added,) = fake_services.trainer_list
    assert (added.name, added.email, added.qualified) == ("Clara Chef", "clara@example.test", True)
    assert fake_services.idempotency_keys == [form["form_token"]]
    assert "Die Ausbilderin bzw. der Ausbilder wurde hinzugefügt." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_a_duplicate_mail_is_refused_in_german(client, login, fake_services, csrf_token, form_token) -> None:
    fake_services.failures["add_trainer"] = ServiceError(
        422,
        {
            "errors": [
                {
                    "pointer": "#/email",
                    "detail": "This company already has a trainer with this e-mail address.",
                }
            ]
        },
    )
    login("company_admin")
    html = client.get("/ausbilder/neu").get_data(as_text=True)
    response = client.post(
        "/ausbilder/neu",
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "first_name": "Clara",
            "last_name": "Chef",
            "email": "anna@example.test",
        },
    )
    assert response.status_code == 422
    assert "Im Betrieb gibt es bereits eine/n Ausbilder/-in mit dieser E-Mail-Adresse." in response.get_data(
        as_text=True
    )


def test_editing_a_trainer(client, login, fake_services, csrf_token, form_token) -> None:
    fake_services.trainer_list = [BERND]
    login("company_admin")
    url = f"/ausbilder/{BERND.trainer_id}"
    html = client.get(url).get_data(as_text=True)
    assert 'value="bernd@example.test"' in html
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "first_name": "Bernd",
            "last_name": "Neumann",
            "email": "bernd@example.test",
            "qualified": "y",
        },
    )
    assert response.status_code == 303
    (changed,) = fake_services.trainer_list
    assert (changed.last_name, changed.qualified) == ("Neumann", True)


def test_removing_a_trainer(client, login, fake_services, csrf_token) -> None:
    fake_services.trainer_list = [BERND]
    login("company_admin")
    html = client.get(f"/ausbilder/{BERND.trainer_id}").get_data(as_text=True)
    token = re.search(r'name="entfernen-form_token" type="hidden" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        f"/ausbilder/{BERND.trainer_id}/entfernen",
        data={"entfernen-csrf_token": csrf_token(html), "entfernen-form_token": token.group(1)},
    )
    assert response.status_code == 303
    assert fake_services.removed_trainers == [BERND.trainer_id]
    assert "wurde entfernt" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_trainer_with_running_contracts_is_not_removed(client, login, fake_services, csrf_token) -> None:
    fake_services.trainer_list = [ANNA]
    login("company_admin")
    html = client.get(f"/ausbilder/{ANNA.trainer_id}").get_data(as_text=True)
    # No button while contracts are assigned; the page says what to do instead.
    assert "entfernen-form_token" not in html
    assert "Ausbilder/-in wechseln" in html
    # Assigned in the meantime: training-records refuses, the page explains in German.
    fake_services.trainer_list = [BERND]
    html = client.get(f"/ausbilder/{BERND.trainer_id}").get_data(as_text=True)
    token = re.search(r'name="entfernen-form_token" type="hidden" value="([^"]+)"', html)
    assert token is not None
    fake_services.failures["remove_trainer"] = ServiceError(
        422,
        {
            "errors": [
                {
                    "pointer": "#/trainer_id",
                    "detail": "Assign the trainer's running contracts to someone else first.",
                }
            ]
        },
    )
    response = client.post(
        f"/ausbilder/{BERND.trainer_id}/entfernen",
        data={"entfernen-csrf_token": csrf_token(html), "entfernen-form_token": token.group(1)},
    )
    assert response.status_code == 422
    assert "noch laufenden Ausbildungsverhältnissen zugeordnet" in response.get_data(as_text=True)


def test_a_trainer_of_another_company_is_not_found(client, login, fake_services) -> None:
    fake_services.trainer_list = [
        Trainer("33333333-3333-4333-8333-333333333333", "9999999", "X", "Y", "x@y.z", True)
    ]
    login("company_admin")
    assert client.get("/ausbilder/33333333-3333-4333-8333-333333333333").status_code == 404


def test_a_branch_with_reach_is_offered_next_to_the_head_office(client, login, fake_services) -> None:
    fake_services.companies_list = [
        Company("4711001", "Muster Maschinenbau GmbH"),
        Company("4711002", "Muster Maschinenbau GmbH Niederlassung Dresden", head_office_number="4711001"),
    ]
    fake_services.trainer_list = [
        ANNA,
        Trainer("44444444-4444-4444-8444-444444444444", "4711002", "Katrin", "Wolff", "k@w.example", True),
    ]
    login("company_admin")
    html = client.get("/ausbilder?betrieb=4711002").get_data(as_text=True)
    assert '<option value="4711002" selected>' in html
    assert "Katrin Wolff" in html and "Anna Ausbilder" not in html
    assert client.get("/ausbilder?betrieb=1234567").status_code == 404


# -- Ausbildungsatlas: the company's side --------------------------------------------------------------


def offer(**overrides: object) -> AtlasOffer:
    values: dict[str, object] = {
        "places": 3,
        "postal_code": "34117",
        "city": "Kassel",
        "contact_email": "ausbildung@muster.example",
    }
    values.update(overrides)
    return AtlasOffer(**values)  # type: ignore[arg-type]


def test_the_company_sees_its_entries_and_consent(client, login, fake_services) -> None:
    fake_services.atlas["4711001"] = AtlasProfile(
        "4711001", False, (AtlasEntry("4711001", "78100", offer()),)
    )
    login("company_admin")
    html = client.get("/ausbildungsatlas/eintraege").get_data(as_text=True)
    words = text(html)
    assert "nicht veröffentlicht" in words
    assert "Industriekaufmann/Industriekauffrau 3 34117 Kassel ausbildung@muster.example" in words
    assert re.search(r'<input[^>]*id="consent"[^>]*type="checkbox"', html)
    assert '<label for="consent">Veröffentlichung im Ausbildungsatlas zustimmen</label>' in html
    assert 'href="/ausbildungsatlas/eintraege/4711001/78100"' in html


def test_consenting_and_withdrawing(client, login, fake_services, csrf_token, form_token) -> None:
    login("company_admin")
    html = client.get("/ausbildungsatlas/eintraege").get_data(as_text=True)
    response = client.post(
        "/ausbildungsatlas/eintraege?betrieb=4711001",
        data={"csrf_token": csrf_token(html), "form_token": form_token(html), "consent": "y"},
    )
    assert response.status_code == 303
    assert fake_services.atlas["4711001"].consent is True
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihre Einträge werden im Ausbildungsatlas veröffentlicht." in html
    assert re.search(r'<input[^>]* checked [^>]*id="consent"', html)
    client.post(
        "/ausbildungsatlas/eintraege?betrieb=4711001",
        data={"csrf_token": csrf_token(html), "form_token": form_token(html)},
    )
    assert fake_services.atlas["4711001"].consent is False


def test_offering_an_occupation(client, login, fake_services, csrf_token, form_token) -> None:
    login("company_admin")
    html = client.get("/ausbildungsatlas/eintraege/neu").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "form_token": form_token(html),
        "occupation_code": "78100",
        "places": "2",
        "postal_code": "34117",
        "city": "Kassel",
        "contact_name": "Frau Muster",
        "website": "https://muster.example/ausbildung",
    }
    response = client.post("/ausbildungsatlas/eintraege/neu", data=form)
    assert response.status_code == 303
    (entry,) = fake_services.atlas["4711001"].entries
    assert entry.offer.as_json() == {
        "places": 2,
        "postal_code": "34117",
        "city": "Kassel",
        "contact_name": "Frau Muster",
        "website": "https://muster.example/ausbildung",
    }
    # An occupation already offered is edited, not offered twice.
    html = client.get("/ausbildungsatlas/eintraege/neu").get_data(as_text=True)
    assert '<option value="78100">' not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"places": "viele"}, "Bitte geben Sie eine ganze Zahl ein."),
        ({"places": "1000"}, "Bitte geben Sie eine Zahl von 0 bis 999 ein."),
        ({"postal_code": "3411"}, "Die Postleitzahl hat fünf Ziffern."),
        ({"city": ""}, "Bitte füllen Sie das Feld „Ort“ aus."),
        ({"website": "muster.example"}, "Bitte geben Sie die Adresse mit https:// an."),
        ({"contact_phone": "0561 abc"}, "Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden."),
        ({"occupation_code": ""}, "Bitte wählen Sie einen Eintrag im Feld „Ausbildungsberuf“ aus."),
    ],
)
def test_entries_are_checked_in_german(
    client, login, fake_services, csrf_token, form_token, overrides: dict[str, str], message: str
) -> None:
    login("company_admin")
    html = client.get("/ausbildungsatlas/eintraege/neu").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "form_token": form_token(html),
        "occupation_code": "78100",
        "places": "2",
        "postal_code": "34117",
        "city": "Kassel",
        **overrides,
    }
    response = client.post("/ausbildungsatlas/eintraege/neu", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert "4711001" not in fake_services.atlas


def test_editing_and_removing_an_entry(client, login, fake_services, csrf_token, form_token) -> None:
    fake_services.atlas["4711001"] = AtlasProfile("4711001", True, (AtlasEntry("4711001", "78100", offer()),))
    login("company_admin")
    url = "/ausbildungsatlas/eintraege/4711001/78100"
    html = client.get(url).get_data(as_text=True)
    assert "<h1>Industriekaufmann/<wbr>Industriekauffrau</h1>" in html
    assert 'value="34117"' in html
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(html),
            "form_token": form_token(html),
            "occupation_code": "78100",
            "places": "5",
            "postal_code": "34119",
            "city": "Kassel",
        },
    )
    assert response.status_code == 303
    assert fake_services.atlas["4711001"].entries[0].offer.places == 5
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="entfernen-form_token" type="hidden" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        f"{url}/entfernen",
        data={"entfernen-csrf_token": csrf_token(html), "entfernen-form_token": token.group(1)},
    )
    assert response.status_code == 303
    assert fake_services.atlas["4711001"].entries == ()
    assert client.get(url).status_code == 404


def test_another_companys_entries_are_not_found(client, login) -> None:
    login("company_admin")
    assert client.get("/ausbildungsatlas/eintraege?betrieb=9999999").status_code == 404
    assert client.get("/ausbildungsatlas/eintraege/9999999/78100").status_code == 404


# -- Ausbildungsatlas: the public search ---------------------------------------------------------------


def hit(name: str, places: int = 2) -> AtlasHit:
    return AtlasHit(
        name, "Industriekaufmann/Industriekauffrau", AtlasEntry("4711001", "78100", offer(places=places))
    )


def test_the_public_search_needs_no_login(client, fake_services) -> None:
    fake_services.atlas_hits = [hit("Muster Maschinenbau GmbH", 3), hit("Einzelplatz GmbH", 1)]
    response = client.get("/ausbildungsatlas", query_string={"occupation_code": "78100", "place": " 341 "})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert fake_services.atlas_searches == [("78100", "341", None)]
    words = text(html)
    assert "Ergebnisse: Industriekaufmann/Industriekauffrau in „341“" in words
    assert "Muster Maschinenbau GmbH 3 Ausbildungsplätze" in words
    assert "Einzelplatz GmbH 1 Ausbildungsplatz ·" in words
    assert 'href="mailto:ausbildung@muster.example"' in html
    assert 'role="search"' in html
    # No login, no token: the page is public, and its navigation says so.
    assert fake_services.tokens_seen == []
    assert '<a href="/ausbildungsatlas" aria-current="page">Ausbildungsatlas</a>' in html


def test_the_first_visit_shows_the_form_only(client, fake_services) -> None:
    html = client.get("/ausbildungsatlas").get_data(as_text=True)
    assert fake_services.atlas_searches == []
    assert "Ergebnisse" not in html and "Bitte korrigieren" not in html
    assert '<option value="78100">Industriekaufmann/Industriekauffrau</option>' in html


def test_a_search_without_occupation_is_explained(client, fake_services) -> None:
    html = client.get("/ausbildungsatlas", query_string={"occupation_code": "", "place": "Kassel"}).get_data(
        as_text=True
    )
    assert fake_services.atlas_searches == []
    assert "Bitte wählen Sie einen Eintrag im Feld „Ausbildungsberuf“ aus." in html
    assert 'value="Kassel"' in html


def test_no_hits_and_the_next_page(client, fake_services) -> None:
    html = client.get("/ausbildungsatlas", query_string={"occupation_code": "78100"}).get_data(as_text=True)
    assert "zurzeit keine veröffentlichten Ausbildungsplätze" in html

    def search(occupation_code: str, place: str | None, *, cursor: str | None = None) -> Page[AtlasHit]:
        return Page(items=[hit("A GmbH")], next_cursor="N2", cursor=cursor)

    fake_services.search_atlas = search
    html = client.get(
        "/ausbildungsatlas", query_string={"occupation_code": "78100", "place": "Kassel"}
    ).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Weitere Ergebnisse</a>', html)
    assert link is not None
    assert (
        "weiter=N2" in link.group(1)
        and "place=Kassel" in link.group(1)
        and "occupation_code=78100" in link.group(1)
    )


def test_an_unavailable_catalogue_is_a_german_message(client, fake_services) -> None:
    fake_services.failures["atlas_occupations"] = ServiceError(401)
    response = client.get("/ausbildungsatlas")
    assert response.status_code == 503
    assert "Die Liste der Ausbildungsberufe ist vorübergehend nicht verfügbar." in response.get_data(
        as_text=True
    )

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient

from gateway.web.services import ServiceError

NOTICE = "Es liegen neue oder noch nicht gelesene Dokumente vor."


def valid_form(token: str, form_token: str = "", **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "form_token": form_token,
        "company_number": "4711001",
        "first_name": "Jonas",
        "last_name": "Neumann",
        "birth_date": "2008-03-14",
        "email": "jonas@example.test",
        "occupation_code": "78100",
        "start_date": "2026-08-01",
        "end_date": "2029-07-31",
        "probation_months": "4",
    }
    form.update(overrides)
    return form


# -- start page and Übersicht ---------------------------------------------------------------


def test_visitors_see_the_intro_and_the_login_button(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Willkommen im Bildungsportal" in html
    assert 'href="/anmelden">Anmelden</a>' in html
    assert "Übersicht" not in html


def test_the_start_page_offers_account_activation(client) -> None:
    html = client.get("/").get_data(as_text=True)
    # identity's page, under the public issuer URL, next to "Anmelden".
    assert (
        '<a class="button button--secondary" href="http://portal.test/auth/activate">Account aktivieren</a>'
        in html
    )


def test_unread_documents_show_the_notice_linking_to_documents(
    client, login, fake_services, make_document
) -> None:
    fake_services.document_list = [make_document(opened_at=None)]
    login("apprentice")
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Übersicht</h1>" in html
    assert NOTICE in html
    assert re.search(r'<div class="notice" role="status">\s*<p>' + NOTICE + r'\s*<a href="/dokumente">', html)


def test_no_notice_when_every_document_was_opened(client, login, fake_services, make_document) -> None:
    fake_services.document_list = [make_document(opened_at=datetime(2026, 11, 24, 13, 3, tzinfo=UTC))]
    login("company_admin")
    html = client.get("/").get_data(as_text=True)
    assert "<h1>Übersicht</h1>" in html
    assert NOTICE not in html


def test_the_overview_survives_an_unreachable_documents_service(client, login, fake_services) -> None:
    fake_services.failures["documents"] = ServiceError(503)
    login("apprentice")
    response = client.get("/")
    assert response.status_code == 200
    assert (
        "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut."
        in response.get_data(as_text=True)
    )


def test_the_navigation_marks_the_current_page(client, login) -> None:
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse").get_data(as_text=True)
    assert '<nav class="nav" aria-label="Hauptnavigation">' in html
    assert '<a href="/ausbildungsverhaeltnisse" aria-current="page">Ausbildungsverhältnisse</a>' in html
    assert '<a href="/" aria-current' not in html


def test_pages_call_the_services_with_the_users_access_token(client, login, fake_services) -> None:
    token_set = login("clerk")
    client.get("/ausbildungsverhaeltnisse")
    assert fake_services.tokens_seen == [token_set.access_token]


# -- Ausbildungsverhältnisse -----------------------------------------------------------------


def test_the_company_list_shows_when_the_confirmation_was_opened(
    client, login, fake_services, make_document, make_contract
) -> None:
    item = make_contract(apprentice_opened_at=datetime(2026, 11, 24, 13, 3, tzinfo=UTC))
    fake_services.contract_list = [item]
    document = make_document(contract_id=item.contract_id)
    fake_services.document_list = [document]
    login("company_admin")
    html = client.get("/ausbildungsverhaeltnisse").get_data(as_text=True)
    assert f'href="/dokumente/{document.document_id}"' in html
    assert "Betrieb: noch nicht geöffnet" in html
    assert "Auszubildende/r: geöffnet am 24.11.2026 um 14:03 Uhr" in html
    assert "eingetragen" in html and "vorbereitet" in html
    assert "01.08.2026" in html and "31.07.2029" in html


def test_the_list_links_the_next_page_by_its_cursor(client, login, fake_services, make_contract) -> None:
    """training-records pages by keyset: "Nächste Seite" carries its next_cursor, back to the start."""
    from gateway.web.services import ContractPage

    asked: list[str | None] = []

    def contracts(*, cursor: str | None = None, filters: object = None) -> ContractPage:
        asked.append(cursor)
        return ContractPage(items=[make_contract()], next_cursor="WyIyMDI2Il0", cursor=cursor)

    fake_services.contracts = contracts
    login("clerk")
    first = client.get("/ausbildungsverhaeltnisse").get_data(as_text=True)
    assert '<a href="/ausbildungsverhaeltnisse?weiter=WyIyMDI2Il0">Nächste Seite</a>' in first
    assert "Erste Seite" not in first
    later = client.get("/ausbildungsverhaeltnisse?weiter=WyIyMDI2Il0").get_data(as_text=True)
    assert '<a href="/ausbildungsverhaeltnisse">Erste Seite</a>' in later
    assert asked == [None, "WyIyMDI2Il0"]


def test_apprentices_may_not_open_the_contract_pages(client, login) -> None:
    login("apprentice")
    response = client.get("/ausbildungsverhaeltnisse")
    assert response.status_code == 403
    assert "Kein Zugriff" in response.get_data(as_text=True)


def test_company_users_may_not_register_contracts(client, login) -> None:
    login("company_admin")
    assert client.get("/ausbildungsverhaeltnisse/neu").status_code == 403


def test_signed_out_users_are_sent_to_the_login(client) -> None:
    response = client.get("/ausbildungsverhaeltnisse")
    assert response.status_code == 302
    assert response.headers["Location"] == "/anmelden"


# -- Ausbildungsvertrag eintragen -------------------------------------------------------------


def test_registering_a_contract_confirms_and_lists_it(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    token, once = csrf_token(html), form_token(html)
    response = client.post(
        "/ausbildungsverhaeltnisse/neu", data=valid_form(token, once), follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Das Ausbildungsverhältnis wurde eingetragen." in html
    assert "Jonas Neumann" in html and "eingetragen" in html
    (registered,) = fake_services.registered
    assert registered.birth_date == date(2008, 3, 14)
    assert registered.as_json()["company"] == {"company_number": "4711001"}


def test_german_dates_typed_by_hand_are_accepted(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    token, once = csrf_token(html), form_token(html)
    client.post("/ausbildungsverhaeltnisse/neu", data=valid_form(token, once, birth_date="14.03.2008"))
    assert fake_services.registered[0].birth_date == date(2008, 3, 14)


def test_date_fields_are_text_inputs_whose_hint_is_true(
    client, login, fake_services, csrf_token, form_token
) -> None:
    """No browser date picker next to a "Format: TT.MM.JJJJ" hint: the field takes exactly that."""
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    for name in ("birth_date", "start_date", "end_date"):
        field = re.search(rf'<input[^>]*id="{name}"[^>]*>', html)
        assert field is not None, name
        assert 'type="text"' in field.group(0) and 'type="date"' not in field.group(0)
        assert f'aria-describedby="{name}-hint"' in field.group(0)
        assert re.search(rf'<p class="hint" id="{name}-hint">Format: TT.MM.JJJJ</p>', html)
    # What the clerk typed comes back as typed; a valid date as TT.MM.JJJJ.
    response = client.post(
        "/ausbildungsverhaeltnisse/neu",
        data=valid_form(
            csrf_token(html), form_token(html), last_name="", birth_date="14.03.2008", start_date="1.8.2026"
        ),
    )
    again = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="14.03.2008"' in again and 'value="1.8.2026"' in again
    assert fake_services.registered == []


def test_missing_and_invalid_input_is_explained_next_to_the_field(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    token, once = csrf_token(html), form_token(html)
    response = client.post(
        "/ausbildungsverhaeltnisse/neu",
        data=valid_form(token, once, last_name="", start_date="31.02.2026", end_date="2026-01-01"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert fake_services.registered == []
    assert 'id="last_name-error"' in html and "Bitte füllen Sie das Feld „Nachname“ aus." in html
    assert re.search(
        r'<input[^>]*aria-describedby="last_name-error"[^>]*aria-invalid="true"[^>]*id="last_name"', html
    )
    assert "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein." in html
    # The error summary links to the field.
    assert '<a href="#last_name">Bitte füllen Sie das Feld „Nachname“ aus.</a>' in html


def test_a_422_problem_from_training_records_lands_on_the_fields(
    client, login, fake_services, csrf_token, form_token
) -> None:
    fake_services.failures["register_contract"] = ServiceError(
        422,
        {
            "type": "https://bildungsportal.example/problems/validation-error",
            "status": 422,
            "errors": [
                {
                    "pointer": "#/apprentice/birth_date",
                    "detail": "The apprentice must be at least 15 years old.",
                },
                {"pointer": "#/company/company_number", "detail": "Unknown company."},
            ],
        },
    )
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    token, once = csrf_token(html), form_token(html)
    response = client.post("/ausbildungsverhaeltnisse/neu", data=valid_form(token, once))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="birth_date-error"><span class="visually-hidden">Fehler: </span>'
        r"Das Geburtsdatum muss in der Vergangenheit liegen und plausibel sein.",
        html,
    )
    assert "Bitte wählen Sie einen gültigen Eintrag für „Ausbildungsbetrieb“ aus." in html
    assert "must be at least" not in html
    # What the clerk typed is still there.
    assert 'value="Neumann"' in html


def test_an_unreachable_service_gives_a_german_message_on_the_form(
    client, login, fake_services, csrf_token, form_token
) -> None:
    fake_services.failures["register_contract"] = ServiceError(503)
    login("clerk")
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    token, once = csrf_token(html), form_token(html)
    html = client.post("/ausbildungsverhaeltnisse/neu", data=valid_form(token, once)).get_data(as_text=True)
    assert "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut." in html


def test_the_form_page_is_a_german_503_when_its_lists_cannot_be_loaded(client, login, fake_services) -> None:
    fake_services.failures["companies"] = ServiceError(504)
    login("clerk")
    response = client.get("/ausbildungsverhaeltnisse/neu")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Der Dienst ist vorübergehend nicht erreichbar" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_forms_without_csrf_token_are_refused(client, login, fake_services) -> None:
    login("clerk")
    response = client.post("/ausbildungsverhaeltnisse/neu", data=valid_form(""))
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen" in response.get_data(as_text=True)
    assert fake_services.registered == []


# -- Dokumente -------------------------------------------------------------------------------


def test_documents_show_new_and_read_badges(client, login, fake_services, make_document) -> None:
    fake_services.document_list = [
        make_document(title="Eintragungsbestätigung 2026-000001"),
        make_document(title="Alte Bestätigung", opened_at=datetime(2026, 11, 20, 7, 30, tzinfo=UTC)),
    ]
    login("apprentice")
    html = client.get("/dokumente").get_data(as_text=True)
    assert "<h1>Dokumente</h1>" in html
    assert '<span class="badge badge--new">Neu</span>' in html
    assert "geöffnet am 20.11.2026 um 08:30 Uhr" in html
    assert html.index("Eintragungsbestätigung 2026-000001") < html.index("Alte Bestätigung")


def test_companies_see_profile_documents(client, login) -> None:
    login("trainer")
    assert "<h1>Profil – Dokumente</h1>" in client.get("/dokumente").get_data(as_text=True)


def test_opening_a_pdf_streams_it_inline(client, login, fake_services, make_document) -> None:
    document = make_document()
    fake_services.document_list = [document]
    login("apprentice")
    response = client.get(f"/dokumente/{document.document_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="eintragungsbestaetigung.pdf"'
    assert response.data == fake_services.pdf
    assert fake_services.opened == [document.document_id]


@pytest.mark.parametrize("document_id", ["not-a-uuid", "00000000-0000-4000-8000-00000000dead"])
def test_unknown_documents_are_a_german_404(client, login, document_id: str) -> None:
    login("apprentice")
    response = client.get(f"/dokumente/{document_id}")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


# -- the rest --------------------------------------------------------------------------------


def test_a_rejected_token_ends_the_session(client, login, fake_services) -> None:
    fake_services.failures["contracts"] = ServiceError(401)
    login("clerk")
    response = client.get("/ausbildungsverhaeltnisse", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." in html
    assert "Willkommen im Bildungsportal" in html


def test_the_mailbox_is_absent_unless_configured(client) -> None:
    assert client.get("/postfach").status_code == 404


def test_security_headers_and_cookie_flags(client, login, csrf_token) -> None:
    login("clerk")
    response = client.get("/ausbildungsverhaeltnisse")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert response.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("bp_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_healthz(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_the_development_mailbox_lists_and_shows_mails(web_settings, fake_services, tmp_path) -> None:
    from dataclasses import replace
    from email.message import EmailMessage

    from gateway.web.app import create_app

    mail_dir = tmp_path / "mails"
    mail_dir.mkdir()
    message = EmailMessage()
    message["From"] = "portal@ihk.example"
    message["To"] = "azubi@demo.example"
    message["Subject"] = "Neues Dokument im Bildungsportal"
    message["Date"] = "Tue, 24 Nov 2026 13:03:00 +0000"
    message.set_content("Ein neues Dokument liegt bereit. <script>alert(1)</script>")
    (mail_dir / "20261124T130300Z-abc.eml").write_bytes(bytes(message))
    app = create_app(replace(web_settings, mail_sink_dir=mail_dir), services_factory=lambda _t: fake_services)
    client = app.test_client()

    listing = client.get("/postfach").get_data(as_text=True)
    assert '<a href="/postfach/20261124T130300Z-abc">Neues Dokument im Bildungsportal</a>' in listing
    assert "24.11.2026 um 14:03 Uhr" in listing
    mail = client.get("/postfach/20261124T130300Z-abc").get_data(as_text=True)
    assert "Ein neues Dokument liegt bereit. &lt;script&gt;" in mail
    assert client.get("/postfach/..%2Fweb").status_code == 404
    assert client.get("/postfach/gibt-es-nicht").status_code == 404


def test_an_unreachable_web_database_is_a_german_503(app, client, login, tmp_path) -> None:
    login("clerk")
    engine = app.extensions["web.engine"]
    engine.dispose()
    # The database file turns into something SQLite cannot open: every connection fails.
    for path in tmp_path.glob("web.db*"):
        path.unlink()
    (tmp_path / "web.db").mkdir()
    response = client.get("/ausbildungsverhaeltnisse")
    assert response.status_code == 503
    assert "Der Dienst ist vorübergehend nicht erreichbar" in response.get_data(as_text=True)

"""The contract page: progress of the downstream steps and who may open which copy."""

from __future__ import annotations

from datetime import UTC, datetime


def test_progress_shows_what_is_still_running(client, login, fake_services, make_contract) -> None:
    item = make_contract(apprentice_number=None)
    fake_services.contract_list = [item]
    login("clerk")
    html = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True)
    assert "Ausbildungsverhältnis eingetragen: <strong>erledigt</strong>" in " ".join(html.split())
    assert "in Bearbeitung" in html
    assert 'data-refresh-seconds="2"' in html
    assert "Noch keine digitale Eintragungsbestätigung" in html


def test_the_chamber_may_open_both_copies(client, login, fake_services, make_document, make_contract) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    company_copy = make_document(contract_id=item.contract_id, recipient_kind="company")
    apprentice_copy = make_document(
        contract_id=item.contract_id,
        recipient_kind="apprentice",
        opened_at=datetime(2026, 11, 24, 13, 3, tzinfo=UTC),
    )
    fake_services.document_list = [apprentice_copy, company_copy]
    login("clerk")
    html = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True)
    assert f'href="/dokumente/{company_copy.document_id}"' in html
    assert f'href="/dokumente/{apprentice_copy.document_id}"' in html
    assert html.index("Ausfertigung für den Ausbildungsbetrieb") < html.index(
        "Ausfertigung für Auszubildende"
    )
    assert "geöffnet am 24.11.2026 um 14:03 Uhr" in html
    assert "data-refresh-seconds" not in html


def test_a_company_may_open_only_its_own_copy(
    client, login, fake_services, make_document, make_contract
) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    company_copy = make_document(contract_id=item.contract_id, recipient_kind="company")
    apprentice_copy = make_document(contract_id=item.contract_id, recipient_kind="apprentice")
    fake_services.document_list = [company_copy, apprentice_copy]
    login("company_admin")
    html = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True)
    assert f'href="/dokumente/{company_copy.document_id}"' in html
    assert f'href="/dokumente/{apprentice_copy.document_id}"' not in html
    assert "Ausfertigung für Auszubildende" in html


def test_unknown_or_foreign_contracts_are_a_german_404(client, login, fake_services, make_contract) -> None:
    login("company_admin")
    response = client.get("/ausbildungsverhaeltnisse/00000000-0000-4000-8000-00000000dead")
    assert response.status_code == 404
    assert "nicht gefunden" in response.get_data(as_text=True).lower()


def test_apprentices_may_not_open_contract_pages(client, login, fake_services, make_contract) -> None:
    item = make_contract()
    fake_services.contract_list = [item]
    login("apprentice")
    assert client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").status_code == 403


def test_a_contract_documents_has_not_heard_of_yet_shows_progress(
    client, login, fake_services, make_contract
) -> None:
    from gateway.web.services import ServiceError

    item = make_contract()
    fake_services.contract_list = [item]
    fake_services.failures["contract_documents"] = ServiceError(404)
    login("clerk")
    response = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}")
    assert response.status_code == 200
    assert "in Bearbeitung" in response.get_data(as_text=True)


def test_an_old_contract_without_documents_is_not_shown_as_running(
    client, login, fake_services, make_contract
) -> None:
    from datetime import date

    item = make_contract(registered_on=date(2017, 8, 1))
    fake_services.contract_list = [item]
    login("clerk")
    html = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True)
    assert "nicht vorhanden" in html
    assert "in Bearbeitung" not in html
    assert "data-refresh-seconds" not in html


def test_a_contract_from_before_the_digital_confirmation_says_it_went_out_on_paper(
    client, login, fake_services, make_contract
) -> None:
    from datetime import date

    item = make_contract(registered_on=date(2018, 1, 31))
    fake_services.contract_list = [item]
    login("clerk")
    html = " ".join(
        client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True).split()
    )
    assert "Die Eintragungsbestätigung für dieses Ausbildungsverhältnis wurde per Post versandt." in html
    assert "ab dem 01.02.2018" in html
    # No promise of a PDF that will never come.
    assert "Sie wird kurz nach der Eintragung erstellt" not in html
    assert "Noch keine digitale Eintragungsbestätigung" not in html


def test_from_the_cutoff_day_on_the_confirmation_is_digital(
    client, login, fake_services, make_contract
) -> None:
    from datetime import date

    item = make_contract(registered_on=date(2018, 2, 1))
    fake_services.contract_list = [item]
    login("clerk")
    html = client.get(f"/ausbildungsverhaeltnisse/{item.contract_id}").get_data(as_text=True)
    assert "per Post" not in html
    assert "keine digitale Eintragungsbestätigung vor" in html


def test_the_company_list_names_the_paper_confirmation(client, login, fake_services, make_contract) -> None:
    from datetime import date

    fake_services.contract_list = [make_contract(registered_on=date(2017, 8, 1))]
    login("company_admin")
    html = client.get("/ausbildungsverhaeltnisse").get_data(as_text=True)
    assert "per Post versandt" in html
    assert "keine digitale Eintragungsbestätigung" not in html

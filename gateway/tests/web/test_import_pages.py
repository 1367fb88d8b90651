"""Datenübermittlung: the upload, the list of imports, one import's progress and its error report."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.web.services import ImportJob, ImportRowError, ServiceError

URL = "/datenuebermittlung"
JOB_ID = "aaaaaaaa-0000-4000-8000-000000000001"
CSV = b"Vertragsnummer;Identnummer\nV-1;4711001\n"


def job(**overrides: object) -> ImportJob:
    values: dict[str, object] = {
        "job_id": JOB_ID,
        "filename": "register-2026.csv",
        "uploaded_at": datetime(2026, 11, 24, 13, 3, tzinfo=UTC),
        "status": "running",
        "total_rows": 12000,
        "done_rows": 3000,
        "error_count": 2,
        "percent": 25,
        "seconds_left": 150.0,
    }
    values.update(overrides)
    return ImportJob(**values)  # type: ignore[arg-type]


def text(html: str) -> str:
    """The page's words: tags are gaps, but a line-break hint (<wbr>) is not, and &nbsp; is a space."""
    html = html.replace("<wbr>", "").replace("&nbsp;", " ")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def upload(client, csrf_token, form_token, data: bytes = CSV, name: str = "register.csv", **extra: str):
    html = client.get(URL).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "form_token": form_token(html),
        "file": (io.BytesIO(data), name),
        **extra,
    }
    return client.post(URL, data=form, content_type="multipart/form-data")


@pytest.mark.parametrize("role", ["company_admin", "apprentice", "trainer"])
def test_only_the_chamber_transmits_data(client, login, role) -> None:
    login(role)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{JOB_ID}").status_code == 403


def test_the_page_links_the_format_and_the_sample(client, login) -> None:
    login("clerk")
    html = client.get(URL).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert 'href="/datenuebermittlung/dateiformat"' in html
    sample = re.search(r'href="(/static/datenuebermittlung-muster\.csv)"', html)
    assert sample is not None
    response = client.get(sample.group(1))
    assert response.status_code == 200
    assert response.data.decode("utf-8-sig").startswith("Vertragsnummer;Identnummer;Firma;")
    assert "Es wurden noch keine Dateien übermittelt." in html


def test_the_format_page_lists_every_column(client, login) -> None:
    login("clerk")
    words = text(client.get(f"{URL}/dateiformat").get_data(as_text=True))
    assert "Probezeit Monate ja 1 bis 4." in words
    assert "Zentrale Identnummer nein" in words


def test_an_upload_is_sent_once_and_leads_to_its_progress(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    html = client.get(URL).get_data(as_text=True)
    once = form_token(html)
    form = {"csrf_token": csrf_token(html), "form_token": once}
    first = client.post(URL, data={**form, "file": (io.BytesIO(CSV), "register.csv")})
    again = client.post(URL, data={**form, "file": (io.BytesIO(CSV), "register.csv")})
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    ((name, data, _type),) = fake_services.uploads
    assert (name, data) == ("register.csv", CSV)
    assert fake_services.idempotency_keys == [once]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Sie können diese Seite schließen" in page
    assert "Die Datei wartet auf die Verarbeitung." in page


def test_a_file_larger_than_the_usual_form_limit_is_accepted(
    client, login, fake_services, csrf_token, form_token
) -> None:
    login("clerk")
    big = CSV + b"V-2;4711001\n" * 200_000  # ~2.4 MB: more than any other form may send
    assert upload(client, csrf_token, form_token, big).status_code == 303
    assert len(fake_services.uploads[0][1]) == len(big)
    # Other forms keep the small limit.
    html = client.get("/ausbildungsverhaeltnisse/neu").get_data(as_text=True)
    response = client.post(
        "/ausbildungsverhaeltnisse/neu",
        data={"csrf_token": csrf_token(html), "first_name": "x" * (2 * 1024 * 1024)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (CSV, "register.xls", "Bitte wählen Sie eine CSV- oder XLSX-Datei (.csv, .xlsx)."),
        (CSV, "register.pdf", "Bitte wählen Sie eine CSV- oder XLSX-Datei (.csv, .xlsx)."),
    ],
)
def test_wrong_files_are_refused_in_german(
    client, login, fake_services, csrf_token, form_token, data: bytes, name: str, message: str
) -> None:
    login("clerk")
    response = upload(client, csrf_token, form_token, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fake_services.uploads == []


def test_a_missing_file_is_refused_in_german(client, login, fake_services, csrf_token, form_token) -> None:
    login("clerk")
    html = client.get(URL).get_data(as_text=True)
    response = client.post(URL, data={"csrf_token": csrf_token(html), "form_token": form_token(html)})
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Datei aus." in response.get_data(as_text=True)


def test_the_services_refusal_lands_at_the_file(client, login, fake_services, csrf_token, form_token) -> None:
    fake_services.failures["upload_import"] = ServiceError(
        422, {"errors": [{"pointer": "#/file", "detail": "The file is empty."}]}
    )
    login("clerk")
    html = upload(client, csrf_token, form_token).get_data(as_text=True)
    assert re.search(
        r'id="file-error"><span class="visually-hidden">Fehler: </span>Die Datei ist leer.', html
    )


def test_the_list_shows_each_imports_outcome(client, login, fake_services) -> None:
    fake_services.import_jobs = [
        job(),
        job(
            job_id="aaaaaaaa-0000-4000-8000-000000000002",
            status="succeeded",
            done_rows=12000,
            created_count=11000,
            updated_count=900,
            unchanged_count=98,
            percent=100,
        ),
        job(
            job_id="aaaaaaaa-0000-4000-8000-000000000003",
            status="failed",
            total_rows=0,
            done_rows=0,
            error_count=0,
        ),
    ]
    login("clerk")
    words = text(client.get(URL).get_data(as_text=True))
    assert "läuft 25 % 3.000 von 12.000 Zeilen" in words
    assert "abgeschlossen 11.000 neu, 900 aktualisiert, 98 unverändert, 2 Fehler" in words
    assert "abgebrochen Datei nicht lesbar" in words


def test_a_running_import_shows_a_real_progress_bar_and_refreshes(client, login, fake_services) -> None:
    fake_services.import_jobs = [job()]
    fake_services.import_row_errors[JOB_ID] = [
        ImportRowError(7, "azubi_geburtsdatum", "invalid_date", "Ungültiges Datum: erwartet TT.MM.JJJJ."),
        ImportRowError(
            9, "beruf", "unknown_occupation", "Unbekannter oder nicht mehr gültiger Ausbildungsberuf."
        ),
    ]
    login("clerk")
    html = client.get(f"{URL}/{JOB_ID}").get_data(as_text=True)
    progress = re.search(r"<progress[^>]*>", html)
    assert progress is not None
    bar = progress.group(0)
    assert 'max="12000"' in bar and 'value="3000"' in bar
    assert 'aria-labelledby="fortschritt-titel"' in bar and 'aria-describedby="fortschritt-text"' in bar
    assert 'aria-valuetext="25 Prozent"' in bar
    words = text(html)
    assert "3.000 von 12.000 Zeilen verarbeitet (25 %)" in words
    assert "Fehler bisher 2" in words
    assert "Restzeit etwa 2 Minuten" in words  # 150 s, rounded
    assert 'data-refresh-seconds="2"' in html
    assert '<script src="/static/refresh.js" defer></script>' in html
    assert re.search(r'<p id="stand" class="status-line" role="status" data-refresh-part>', html)
    # The errors so far, with the column's header, and the report.
    assert "7 Azubi Geburtsdatum Ungültiges Datum: erwartet TT.MM.JJJJ." in words
    assert f'href="{URL}/{JOB_ID}/fehlerbericht.csv"' in html


def test_a_finished_import_stops_refreshing_and_sums_up(client, login, fake_services) -> None:
    fake_services.import_jobs = [
        job(
            status="succeeded",
            done_rows=12000,
            error_count=0,
            created_count=12000,
            percent=100,
            seconds_left=None,
        )
    ]
    login("clerk")
    html = client.get(f"{URL}/{JOB_ID}").get_data(as_text=True)
    assert "data-refresh-seconds" not in html
    words = text(html)
    assert "Die Datenübermittlung ist abgeschlossen." in words
    assert "Neu eingetragen 12.000" in words
    assert "Keine: Alle Zeilen wurden übernommen." in words
    assert "fehlerbericht.csv" not in html


def test_a_failed_import_says_why(client, login, fake_services) -> None:
    fake_services.import_jobs = [
        job(
            status="failed",
            total_rows=0,
            done_rows=0,
            error_count=0,
            percent=0,
            failure="missing_columns",
            failure_detail="Es fehlen Pflichtspalten: „Probezeit Monate“.",
        )
    ]
    login("clerk")
    words = text(client.get(f"{URL}/{JOB_ID}").get_data(as_text=True))
    assert "Die Datenübermittlung wurde abgebrochen" in words
    assert "Es fehlen Pflichtspalten: „Probezeit Monate“." in words


def test_the_error_report_is_streamed_as_csv(client, login, fake_services) -> None:
    fake_services.import_jobs = [job()]
    login("clerk")
    response = client.get(f"{URL}/{JOB_ID}/fehlerbericht.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="importbericht-{JOB_ID}.csv"'
    assert response.data == fake_services.report
    assert client.get(f"{URL}/aaaaaaaa-0000-4000-8000-00000000dead/fehlerbericht.csv").status_code == 404


def test_the_time_left_is_said_in_words() -> None:
    from gateway.web.formatting import time_left

    assert time_left(None) == "wird ermittelt"
    assert time_left(12) == "weniger als eine Minute"
    assert time_left(75) == "etwa 1 Minute"
    assert time_left(29 * 60) == "etwa 29 Minuten"
    assert time_left(2 * 3600 + 20 * 60) == "etwa 2 Stunden 20 Minuten"


def test_a_queued_job_is_in_progress() -> None:
    assert replace(job(), status="queued").in_progress

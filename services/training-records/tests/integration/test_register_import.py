"""The chamber's data import end to end: upload over the API, the worker's chunks, progress,
the error report, re-imports, and a worker that dies mid-file."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.service_layer import importing
from training_records.service_layer.importing import ImportWorker

SAMPLE = Path(importing.__file__).parent.parent / "data" / "import-sample.csv"
HEADER = SAMPLE.read_text(encoding="utf-8-sig").splitlines()[0]
GOOD_ROW = (
    "V-9-{n};4711001;Muster Maschinenbau GmbH;Industriestraße 12;34117;Kassel;"
    "ausbildung@muster-maschinenbau.example;;Anna;Ausbilder;ausbilder@muster-maschinenbau.example;ja;"
    "Jonas;Becker{n};14.03.2008;jonas{n}@mail.example;78100;;01.08.2026;31.07.2029;4;nein;0;03.07.2026"
)


def upload(client: FlaskClient, headers: dict[str, str], data: bytes, name: str = "export.csv") -> Any:
    return client.post(
        "/imports",
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def run_worker(runtime: TrainingRecordsRuntime) -> None:
    ImportWorker(runtime.bus, name="test-worker").run_once()


def counts(runtime: TrainingRecordsRuntime) -> dict[str, int]:
    with runtime.engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (orm.contracts, orm.companies, orm.trainers, orm.outbox, orm.contract_changes)
        }


def test_the_sample_file_imports_and_a_reimport_changes_nothing(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str]
) -> None:
    response = upload(client, clerk, SAMPLE.read_bytes(), "import-sample.csv")
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    assert response.json["job"]["status"] == "queued"
    run_worker(runtime)
    progress = client.get(location, headers=clerk).json
    job = progress["job"]
    assert job["status"] == "succeeded", job
    assert job["done_rows"] == job["total_rows"] > 0
    assert progress["percent"] == 100
    assert job["created_count"] + job["error_count"] == job["total_rows"]
    assert job["created_count"] > 0
    with runtime.engine.connect() as connection:  # the upload's personal data is not kept
        assert connection.execute(sa.select(sa.func.count()).select_from(orm.import_files)).scalar_one() == 0
    before = counts(runtime)

    again = upload(client, clerk, SAMPLE.read_bytes(), "import-sample.csv")
    run_worker(runtime)
    job = client.get(again.headers["Location"], headers=clerk).json["job"]
    assert (job["status"], job["created_count"], job["updated_count"]) == ("succeeded", 0, 0)
    assert counts(runtime) == before  # no contract, company, trainer, event or history entry more


def test_bad_rows_are_reported_by_line_and_column_and_do_not_stop_the_good_ones(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str]
) -> None:
    rows = [HEADER, GOOD_ROW.format(n=1)]
    rows.append(GOOD_ROW.format(n=2).replace("78100", "99999"))  # unknown occupation, line 3
    rows.append(GOOD_ROW.format(n=3).replace(";4;nein", ";7;nein"))  # probation of 7 months, line 4
    rows.append(GOOD_ROW.format(n=4).replace("31.07.2029", "31.13.2029"))  # no such date, line 5
    rows.append(GOOD_ROW.format(n=1))  # the same contract number again, line 6
    response = upload(client, clerk, ("\n".join(rows) + "\n").encode("utf-8"))
    run_worker(runtime)
    job = client.get(response.headers["Location"], headers=clerk).json["job"]
    assert (job["status"], job["created_count"], job["error_count"]) == ("succeeded", 1, 4), job
    errors = client.get(response.headers["Location"] + "/errors", headers=clerk).json["items"]
    by_line = {(e["line"], e["field"]) for e in errors}
    assert {(3, "beruf"), (4, "probezeit_monate"), (5, "ende")} <= by_line
    assert any(line == 6 for line, _ in by_line)
    report = client.get(response.headers["Location"] + "/report.csv", headers=clerk)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    text = report.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Zeile;Spalte;Code;Fehler"
    assert "Probezeit" in text


def test_an_unreadable_file_fails_as_a_whole_with_a_german_reason(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str]
) -> None:
    response = upload(client, clerk, b"Vertragsnummer;Identnummer\nV-1;4711001\n")
    run_worker(runtime)
    job = client.get(response.headers["Location"], headers=clerk).json["job"]
    assert (job["status"], job["failure"]) == ("failed", "missing_columns")
    assert "fehlen" in job["failure_detail"].lower() or "fehlt" in job["failure_detail"].lower()
    before = counts(runtime)
    assert before["contracts"] == 1  # the demo contract only


def test_uploads_that_need_no_reading_are_refused_at_once(client: FlaskClient, clerk: dict[str, str]) -> None:
    for data, name in ((b"", "leer.csv"), (b"a;b\n", "export.pdf")):
        response = upload(client, clerk, data, name)
        assert response.status_code == 422
        assert response.json["errors"][0]["pointer"] == "#/file"


def test_only_chamber_staff_import(
    client: FlaskClient, auth: Callable[..., dict[str, str]], clerk: dict[str, str]
) -> None:
    company = auth(company_roles={"4711001": ["admin"]})
    assert upload(client, company, SAMPLE.read_bytes()).status_code == 403
    assert client.get("/imports", headers=company).status_code == 403
    job = upload(client, clerk, SAMPLE.read_bytes()).headers["Location"]
    assert client.get(job, headers=company).status_code == 403


def test_a_worker_that_stops_mid_file_is_resumed_without_duplicates(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(importing, "CHUNK_ROWS", 3)
    rows = [HEADER] + [GOOD_ROW.format(n=n) for n in range(1, 11)]
    response = upload(client, clerk, ("\n".join(rows) + "\n").encode("utf-8"))
    stop = threading.Event()
    real = runtime.bus.handle
    applied = []

    def handle(message: Any) -> Any:
        result = real(message)
        if type(message).__name__ == "ApplyImportChunk":
            applied.append(message.start_index)
            if len(applied) == 2:
                stop.set()  # the worker is told to stop after its second chunk
        return result

    monkeypatch.setattr(runtime.bus, "handle", handle)
    first = ImportWorker(runtime.bus, name="first")
    first.run_once(stop)
    job = client.get(response.headers["Location"], headers=clerk).json["job"]
    assert (job["status"], job["done_rows"]) == ("running", 6)

    # Another worker takes over once the first one's lease has run out.
    with runtime.engine.begin() as connection:
        connection.execute(
            sa.update(orm.import_jobs).values(lease_until=sa.func.now() - sa.text("interval '1 second'"))
        )
    ImportWorker(runtime.bus, name="second").run_once()
    job = client.get(response.headers["Location"], headers=clerk).json["job"]
    assert (job["status"], job["done_rows"], job["created_count"]) == ("succeeded", 10, 10)
    with runtime.engine.connect() as connection:
        keys = (
            connection.execute(
                sa.select(orm.contracts.c.source_key).where(orm.contracts.c.source_key.isnot(None))
            )
            .scalars()
            .all()
        )
    assert sorted(keys) == sorted(f"V-9-{n}" for n in range(1, 11))

"""The import worker as its own process, killed with SIGKILL in the middle of a file and started
again: the result equals a clean run's (same contracts, companies, trainers and events), with
nothing applied twice."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.config import ServiceSettings
from chassis.testing.infrastructure import fresh_database
from chassis.testing.tokens import TestIssuer
from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime, bootstrap, seed_demo
from training_records.entrypoints.app import build_app

ROWS = 3000
HEADER = (
    "Vertragsnummer;Identnummer;Firma;Straße;PLZ;Ort;Firma E-Mail;Zentrale Identnummer;"
    "Ausbilder Vorname;Ausbilder Nachname;Ausbilder E-Mail;Ausbildereignung;"
    "Azubi Vorname;Azubi Nachname;Azubi Geburtsdatum;Azubi E-Mail;Beruf;Fachrichtung;"
    "Beginn;Ende;Probezeit Monate;Teilzeit;Verkürzung Monate;Eingetragen am"
)


def export() -> bytes:
    lines = [HEADER]
    for n in range(ROWS):
        company = n // 25
        lines.append(
            f"K-{n:05d};{6100000 + company};Betrieb {company} GmbH;Hafenstraße {company % 90 + 1};"
            f"{20000 + company:05d};Hamburg;azubi@betrieb{company}.example;;Tom;Trainer{company};"
            f"trainer@betrieb{company}.example;ja;Mia;Muster{n};01.02.2008;mia{n}@schule.example;"
            "78100;;01.08.2026;31.07.2029;3;nein;0;01.07.2026"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def runtime_on(url: str, tmp_path: Path) -> TrainingRecordsRuntime:
    runtime = bootstrap(
        ServiceSettings.from_env(
            "training-records",
            env={
                "TRAINING_RECORDS_DATABASE_URL": url,
                "BP_BUS_URL": "memory://",
                "BP_DATA_DIR": str(tmp_path),
                "BP_LOG_JSON": "0",
            },
        )
    )
    runtime.migrate()
    seed_demo(runtime)
    return runtime


@pytest.fixture
def second_database(database_url: str) -> Iterator[str]:
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with fresh_database(admin, prefix="clean") as url:
        yield url


def upload(runtime: TrainingRecordsRuntime, test_issuer: TestIssuer, data: bytes) -> str:
    runtime.token_validator = test_issuer.validator()
    client: FlaskClient = build_app(runtime).test_client()
    response = client.post(
        "/imports",
        data={"file": (io.BytesIO(data), "register.csv")},
        headers=test_issuer.header(roles=["chamber_clerk"], sub="clerk-1"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    return str(response.json["job"]["id"])


def start_worker(url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRAINING_RECORDS_DATABASE_URL": url,
        "BP_BUS_URL": "memory://",
        "BP_DATA_DIR": str(tmp_path),
        "BP_LOG_JSON": "0",
    }
    command = Path(sys.executable).parent / "bp-training-records"
    tmp_path.mkdir(parents=True, exist_ok=True)
    with (tmp_path / "worker.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(command), "worker", "--only", "importer"], env=env, stdout=log, stderr=log
        )


def job_state(runtime: TrainingRecordsRuntime) -> tuple[str, int]:
    with runtime.engine.connect() as connection:
        row = connection.execute(sa.select(orm.import_jobs.c.status, orm.import_jobs.c.done_rows)).one()
    return str(row.status), int(row.done_rows)


def wait_for(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def register_contents(runtime: TrainingRecordsRuntime) -> dict[str, object]:
    """What the import put into the register, without generated ids and numbers."""
    with runtime.engine.connect() as connection:
        contracts = connection.execute(
            sa.select(
                orm.contracts.c.source_key,
                orm.contracts.c.company_number,
                orm.apprentices.c.last_name,
                orm.contracts.c.start_date,
                orm.contracts.c.end_date,
                orm.trainers.c.email,
            )
            .join(orm.apprentices, orm.apprentices.c.id == orm.contracts.c.apprentice_id)
            .join(orm.trainers, orm.trainers.c.id == orm.contracts.c.trainer_id)
            .where(orm.contracts.c.source_key.isnot(None))
        ).all()
        numbers = connection.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(orm.contracts.c.contract_number)))
        ).one()
        events = connection.execute(
            sa.select(orm.outbox.c.event_type, sa.func.count())
            .where(orm.outbox.c.event_type != "training.occupation.added")
            .group_by(orm.outbox.c.event_type)
        ).all()
        companies = connection.execute(sa.select(sa.func.count()).select_from(orm.companies)).scalar_one()
        trainers = connection.execute(sa.select(sa.func.count()).select_from(orm.trainers)).scalar_one()
    return {
        "contracts": sorted(tuple(map(str, row)) for row in contracts),
        "numbers_unique": numbers[0] == numbers[1],
        "events": dict(events),
        "companies": companies,
        "trainers": trainers,
    }


def test_a_killed_import_worker_resumes_and_ends_as_a_clean_run_does(
    database_url: str, second_database: str, test_issuer: TestIssuer, tmp_path: Path
) -> None:
    data = export()
    killed = runtime_on(database_url, tmp_path / "killed")
    clean = runtime_on(second_database, tmp_path / "clean")
    try:
        upload(killed, test_issuer, data)
        worker = start_worker(database_url, tmp_path / "killed")
        # Kill it once it has committed some chunks but not all.
        wait_for(lambda: 0 < job_state(killed)[1] < ROWS, timeout=120)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        status, done = job_state(killed)
        assert status == "running" and done < ROWS

        # The job stays the dead worker's until its lease ends; let it end now rather than in 2 min.
        with killed.engine.begin() as connection:
            connection.execute(sa.update(orm.import_jobs).values(lease_until=sa.func.now()))
        restarted = start_worker(database_url, tmp_path / "killed")
        try:
            wait_for(lambda: job_state(killed)[0] == "succeeded", timeout=180)
        finally:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=30)

        upload(clean, test_issuer, data)
        clean_worker = start_worker(second_database, tmp_path / "clean")
        try:
            wait_for(lambda: job_state(clean)[0] == "succeeded", timeout=180)
        finally:
            clean_worker.send_signal(signal.SIGTERM)
            clean_worker.wait(timeout=30)

        after_kill, after_clean = register_contents(killed), register_contents(clean)
        assert len(after_kill["contracts"]) == ROWS  # type: ignore[arg-type]
        assert after_kill["numbers_unique"]
        assert after_kill == after_clean
        assert after_kill["events"] == {
            "training.contract.registered": ROWS,
            "training.company.registered": ROWS // 25,
            "training.trainer.added": ROWS // 25,
        }
    finally:
        killed.engine.dispose()
        clean.engine.dispose()

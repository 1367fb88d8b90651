"""Benchmark (c): the chamber's data import, in distributed mode, from the upload to the last
downstream effect.

The whole portal runs as ``make run-distributed`` runs it (gunicorn per service, the workers,
RabbitMQ, PostgreSQL, nginx at the edge, a real SMTP server), on fresh databases. A clerk
(logged in through the edge with the code flow) uploads a generated register export of N
contracts (CSV, ``docs/import-format.md``) to ``POST /api/training/imports``. The clock stops
when the last downstream effect has happened:

- the import job has applied every row (training-records);
- every apprentice has an account prepared (identity);
- both Eintragungsbestätigungen per contract are issued (documents);
- both mails per contract were accepted by the SMTP server (notifications);
- exams' read model holds every contract (exams).

Reported per size: seconds and contracts per second, and when each effect completed. Targets
(DESIGN §5): 10,000 contracts in at most 60 s on this 2-core machine; 100,000 in at most 11 ×
the time of 10,000 (measured in the same run). Sizes: BENCH_IMPORT_SIZES (default
1000,10000,100000; BENCH_QUICK=1: 200,1000).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from chassis.db import normalise_url
from chassis.testing.oidc_login import access_token
from chassis.testing.smtp import CountingHandler, smtp_server_with
from gateway import processes
from gateway.distributed import generate_secrets, run_distributed
from gateway.routes import ROUTES

TARGET_SECONDS_10K = 60.0
TARGET_SCALING = 11.0
HEADER = (
    "Vertragsnummer;Identnummer;Firma;Straße;PLZ;Ort;Firma E-Mail;Zentrale Identnummer;"
    "Ausbilder Vorname;Ausbilder Nachname;Ausbilder E-Mail;Ausbildereignung;"
    "Azubi Vorname;Azubi Nachname;Azubi Geburtsdatum;Azubi E-Mail;Beruf;Fachrichtung;"
    "Beginn;Ende;Probezeit Monate;Teilzeit;Verkürzung Monate;Eingetragen am"
)
CONTRACTS_PER_COMPANY = 20


def register_export(size: int, run: str) -> bytes:
    """A chamber's export: ``size`` contracts at ``size / 20`` companies, one trainer each."""
    lines = [HEADER]
    for index in range(size):
        company = index // CONTRACTS_PER_COMPANY
        number = f"B{run}{company:06d}"
        lines.append(
            ";".join(
                (
                    f"V-{run}-{index:07d}",
                    number,
                    f"Benchmark Betrieb {company} GmbH",
                    f"Werkstraße {company % 200 + 1}",
                    f"{34000 + company % 900:05d}",
                    "Kassel",
                    f"ausbildung-{company}@betrieb-{run}.example",
                    "",
                    "Anna",
                    f"Ausbilderin{company}",
                    f"ausbilder-{company}@betrieb-{run}.example",
                    "ja",
                    "Jonas",
                    f"Becker{index}",
                    "14.03.2008",
                    f"azubi-{index}@bench-{run}.example",
                    "78100",
                    "",
                    "01.08.2027",
                    "31.07.2030",
                    "4",
                    "nein",
                    "0",
                    "03.07.2026",
                )
            )
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def run(quick: bool = False) -> dict[str, Any]:
    default = "200,1000" if quick else "1000,10000,100000"
    sizes = [int(size) for size in os.environ.get("BENCH_IMPORT_SIZES", default).split(",")]
    postgres = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    amqp = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    run_id = uuid.uuid4().hex[:6]
    handler = CountingHandler()
    results: list[dict[str, Any]] = []
    with ExitStack() as stack:
        smtp_host, smtp_port = stack.enter_context(smtp_server_with(handler))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-import-")))
        portal = stack.enter_context(
            run_distributed(
                {
                    "BP_QUEUE_PREFIX": f"bench-{run_id}.",
                    "BP_EXCHANGE": f"bench-{run_id}.events",
                    "IDENTITY_ACCESS_TOKEN_SECONDS": "3600",
                    "BP_LOG_LEVEL": "WARNING",
                }
                | generate_secrets(),
                work,
                edge_port=processes.free_port(),
                ports={route.service: processes.free_port() for route in ROUTES},
                postgres_url=postgres,
                amqp_url=amqp,
                database_prefix=f"bench_{run_id}_",
                smtp=(smtp_host, smtp_port),
                gunicorn_workers=2,
                gunicorn_threads=2,
                ready_timeout=180,
                drop_databases_on_exit=True,
                delete_topology_on_exit=True,
            )
        )
        engines = {
            service: stack.enter_context(_Engine(portal.options.database_url(service)))
            for service in ("training-records", "identity", "documents", "exams")
        }
        token = access_token(portal.base_url, portal.env["BP_WEB_CLIENT_SECRET"], "clerk")
        for size in sizes:
            run = f"{run_id}{size}"
            before = cpu_seconds(portal.processes)
            results.append(_measure(size, run, portal.base_url, token, engines, handler))
            after = cpu_seconds(portal.processes)
            results[-1]["cpu_seconds_by_process"] = {
                name: round(after[name] - before.get(name, 0.0), 2) for name in sorted(after)
            }
            print(f"import {size:>7} contracts: {results[-1]['seconds']:.1f} s", flush=True)
    by_size = {r["contracts"]: r for r in results}
    summary: dict[str, Any] = {"sizes": results}
    if 10_000 in by_size:
        summary["seconds_10k"] = by_size[10_000]["seconds"]
        summary["passed_10k"] = by_size[10_000]["seconds"] <= TARGET_SECONDS_10K
    if 10_000 in by_size and 100_000 in by_size:
        summary["scaling_100k_over_10k"] = by_size[100_000]["seconds"] / by_size[10_000]["seconds"]
        summary["passed_scaling"] = summary["scaling_100k_over_10k"] <= TARGET_SCALING
    return summary


def import_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """The benchmark table's rows (bench/run.py)."""
    rows: list[tuple[str, ...]] = []
    for size in summary["sizes"]:
        rows.append(
            (
                f"import {size['contracts']:,} contracts (s)",
                f"{size['seconds']:.1f} s, {size['contracts_per_second']:.0f}/s",
                "upload -> last mail, document, account, exams",
                "",
                "<= 60 s" if size["contracts"] == 10_000 else "",
                ("yes" if summary["passed_10k"] else "NO") if size["contracts"] == 10_000 else "",
            )
        )
    if "scaling_100k_over_10k" in summary:
        rows.append(
            (
                "  100,000 vs 10,000 (time)",
                f"{summary['scaling_100k_over_10k']:.1f} x",
                "10,000 in the same run",
                f"{summary['scaling_100k_over_10k']:.2f}",
                f"<= {TARGET_SCALING:.0f}x",
                "yes" if summary["passed_scaling"] else "NO",
            )
        )
    return rows


class _Engine:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(normalise_url(url), pool_size=1, max_overflow=0)

    def __enter__(self) -> sa.Engine:
        return self.engine

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()


def cpu_seconds(processes: Any) -> dict[str, float]:
    """CPU time (user + system) so far of each of the portal's processes and their children
    (gunicorn's workers), by process name: where an import's time goes."""
    ticks = os.sysconf("SC_CLK_TCK")
    result: dict[str, float] = {}
    for process in processes:
        total = 0.0
        pids = [process.pid]
        try:
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            pids += [int(child) for child in children]
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        result[process.name] = total
    return result


def _count(engine: sa.Engine, sql: str, **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql), params).scalar_one())


def _measure(
    size: int,
    run: str,
    base_url: str,
    token: str,
    engines: dict[str, sa.Engine],
    smtp: CountingHandler,
) -> dict[str, Any]:
    export = register_export(size, run)
    domain = f"bench-{run}.example"
    company_domain = f"betrieb-{run}.example"
    companies = f"B{run}%"  # every company number of this run (see register_export)
    started = time.monotonic()
    response = requests.post(
        f"{base_url}/api/training/imports",
        files={"file": (f"register-{run}.csv", export, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    response.raise_for_status()
    job_url = base_url + "/api/training" + response.headers["Location"].split("/api/training", 1)[-1]
    upload_s = time.monotonic() - started

    def job_done() -> bool:
        job = requests.get(job_url, headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["job"]
        if job["status"] == "failed":
            raise RuntimeError(f"import failed: {job}")
        return bool(job["status"] == "succeeded" and job["created_count"] == size)

    effects: dict[str, Callable[[], bool]] = {
        "imported": job_done,
        "accounts_prepared": lambda: (
            _count(engines["identity"], "SELECT count(*) FROM accounts WHERE email LIKE :d", d=f"%@{domain}")
            >= size
        ),
        "confirmations_issued": lambda: (
            _count(
                engines["documents"],
                "SELECT count(*) FROM documents d JOIN contracts c ON c.contract_id = d.contract_id "
                "WHERE d.kind = 'registration_confirmation' AND c.company_number LIKE :p",
                p=companies,
            )
            >= 2 * size
        ),
        "mails_accepted": lambda: (
            smtp.accepted.get(domain, 0) >= size and smtp.accepted.get(company_domain, 0) >= size
        ),
        "exams_read_model": lambda: (
            _count(
                engines["exams"],
                "SELECT count(*) FROM registered_contracts WHERE company_number LIKE :p",
                p=companies,
            )
            >= size
        ),
    }
    done_at: dict[str, float] = {}
    deadline = started + max(600.0, size * 0.05)
    while len(done_at) < len(effects):
        for name, check in effects.items():
            if name not in done_at and check():
                done_at[name] = time.monotonic() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"import of {size} timed out; done: {done_at}")
        time.sleep(0.25)
    seconds = max(done_at.values())
    return {
        "contracts": size,
        "seconds": seconds,
        "contracts_per_second": size / seconds,
        "upload_seconds": upload_s,
        "effects_done_at_seconds": done_at,
        "file_bytes": len(export),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(os.environ.get("BENCH_QUICK") == "1"), indent=2))

"""The embedded mode for real (`make run`): one process, every service, SQLite, the in-memory
bus and the local mail sink, started as a developer starts it and stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from chassis.testing.tokens import TestIssuer
from gateway import processes
from gateway.routes import ROUTES


@dataclass
class Embedded:
    base_url: str
    data_dir: Path
    smtp_port: int
    process: processes.ManagedProcess


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    data_dir = tmp_path_factory.mktemp("embedded")
    port, smtp_port = processes.free_port(), processes.free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("BP_", "NOTIFICATIONS_", "WEB_", "IDENTITY_", "TRAINING_RECORDS_", "EXAMS_", "DOCUMENTS_")
        )
    }
    env.update({"PORT": str(port), "BP_DATA_DIR": str(data_dir), "NOTIFICATIONS_SMTP_PORT": str(smtp_port)})
    process = processes.start(
        "embedded", [sys.executable, "-P", "-m", "gateway.embedded"], env=env, log_dir=data_dir / "logs"
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until(
            "the embedded portal",
            lambda: processes.http_ok(base_url + "/api/notifications/readyz"),
            timeout=90,
            watch=[process],
        )
        yield Embedded(base_url, data_dir, smtp_port, process)
    finally:
        process.stop()


def test_every_route_is_served_from_one_process(embedded: Embedded) -> None:
    for route in ROUTES:
        if route.strips_prefix:
            response = requests.get(f"{embedded.base_url}{route.prefix}/readyz", timeout=5)
            assert response.status_code == 200, route.prefix
            assert response.headers["X-Frame-Options"] == "DENY"
    assert requests.get(embedded.base_url + "/", timeout=5).status_code == 200


def test_each_service_has_its_own_sqlite_file(embedded: Embedded) -> None:
    files = {path.name for path in embedded.data_dir.glob("*.db")}
    assert {"identity.db", "training_records.db", "exams.db", "documents.db", "notifications.db"} <= files


def test_issuer_urls_follow_the_port(embedded: Embedded) -> None:
    discovery = requests.get(f"{embedded.base_url}/auth/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == f"{embedded.base_url}/auth"


def test_services_fetch_the_jwks_from_the_same_process(embedded: Embedded) -> None:
    """A token with an unknown key makes the service fetch identity's JWKS over HTTP from this
    very process while it handles the request: a single-threaded server would hang here."""
    stranger = TestIssuer(issuer=f"{embedded.base_url}/auth")
    started = time.monotonic()
    response = requests.get(
        f"{embedded.base_url}/api/training/contracts",
        headers=stranger.header(roles=["chamber_clerk"]),
        timeout=20,
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 401
    # The JWKS client gives up after 3 s; a fetch that had to wait for this request to end would.
    assert elapsed < 2.5
    # identity counted the JWKS request (the metrics registry is shared by the whole process).
    metrics = requests.get(f"{embedded.base_url}/auth/metrics", timeout=5).text
    jwks_served = [
        line
        for line in metrics.splitlines()
        if line.startswith("bp_http_requests_total{")
        and all(label in line for label in ('endpoint="/jwks"', 'service="identity"', 'status="200"'))
    ]
    assert jwks_served


def test_mail_goes_to_the_local_sink_as_eml(embedded: Embedded) -> None:
    message = EmailMessage()
    message["From"] = "portal@example.org"
    message["To"] = "lena@example.org"
    message["Subject"] = "Neues Dokument"
    message.set_content("Es liegt ein neues Dokument für Sie bereit.")
    with smtplib.SMTP("127.0.0.1", embedded.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)
    mails = embedded.data_dir / "mails"
    processes.wait_until("the stored mail", lambda: any(mails.glob("*.eml")), timeout=10)
    stored = next(mails.glob("*.eml")).read_text()
    assert "Subject: Neues Dokument" in stored


def test_ctrl_c_stops_it_cleanly(embedded: Embedded) -> None:
    os.killpg(embedded.process.popen.pid, signal.SIGINT)
    try:
        returncode = embedded.process.popen.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail("the embedded portal did not stop within 30 s of Ctrl-C")
    assert returncode == 0
    assert not processes.port_open("127.0.0.1", int(embedded.base_url.rsplit(":", 1)[1]))

"""The embedded mode for real (`make run`): one process, every service, SQLite, the in-memory
bus and the local mail sink, started as a developer starts it and stopped with Ctrl-C."""

from __future__ import annotations

import http.client
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from chassis.demo import demo_account
from chassis.testing.tokens import TestIssuer
from gateway import processes
from gateway.embedded_testing import Embedded, clean_environment, start_portal
from gateway.routes import INTERNAL_PATHS, ROUTES


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    # Any free port for the mail sink and for the operational endpoints: nothing fixed that a
    # second portal (or another program) could be holding.
    portal = start_portal(
        tmp_path_factory.mktemp("embedded"), {"BP_MAIL_SINK_PORT": "0", "BP_INTERNAL_PORT": "0"}
    )
    try:
        yield portal
    finally:
        portal.process.stop()


def test_every_route_is_served_from_one_process(embedded: Embedded) -> None:
    assert embedded.internal_url is not None
    for route in ROUTES:
        if route.strips_prefix:
            # Readiness on the operators' port, as on the services' own ports in the distributed mode.
            response = requests.get(f"{embedded.internal_url}{route.prefix}/readyz", timeout=5)
            assert response.status_code == 200, route.prefix
            assert response.headers["X-Frame-Options"] == "DENY"
            # Liveness through the edge, as load balancers probe it.
            alive = requests.get(f"{embedded.base_url}{route.prefix}/healthz", timeout=5)
            assert alive.status_code == 200, route.prefix
            assert alive.headers["X-Frame-Options"] == "DENY"
    assert requests.get(embedded.base_url + "/", timeout=5).status_code == 200


def test_operational_endpoints_are_not_public(embedded: Embedded) -> None:
    """As nginx does in the distributed mode (gateway.routes.INTERNAL_PATHS)."""
    for route in ROUTES:
        if route.strips_prefix:
            for path in INTERNAL_PATHS:
                hidden = requests.get(f"{embedded.base_url}{route.prefix}{path}", timeout=5)
                assert hidden.status_code == 404, route.prefix + path
                assert hidden.headers["Content-Type"] == "application/problem+json"
                assert "bp_http_requests_total" not in hidden.text
    # The operators' port answers on loopback only.
    assert embedded.internal_url is not None and embedded.internal_url.startswith("http://127.0.0.1:")


def test_credential_posts_are_rate_limited_as_behind_nginx(embedded: Embedded) -> None:
    """identity's real login form in the running embedded portal: the seventh post within a minute
    from one address is refused (gateway.ratelimit, nginx's numbers); another address is not."""
    port = int(embedded.base_url.rsplit(":", 1)[1])

    def post(source: str) -> tuple[int, dict[str, str], str]:
        # Other loopback addresses as clients: this test's bucket is its own.
        connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=10)
        try:
            connection.request(
                "POST",
                "/auth/login",
                body="login=niemand%40example.org&password=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    passed = [post("127.0.0.2")[0] for _ in range(6)]
    assert 429 not in passed and all(status < 500 for status in passed), passed
    status, headers, body = post("127.0.0.2")
    assert status == 429
    assert headers["Retry-After"] == "6" and headers["Content-Type"].startswith("text/html")
    assert "Zu viele Versuche" in body and '<html lang="de">' in body
    assert post("127.0.0.3")[0] != 429


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
    metrics = requests.get(f"{embedded.internal_url}/auth/metrics", timeout=5).text
    jwks_served = [
        line
        for line in metrics.splitlines()
        if line.startswith("bp_http_requests_total{")
        and all(label in line for label in ('endpoint="/jwks"', 'service="identity"', 'status="200"'))
    ]
    assert jwks_served


def test_mail_goes_to_the_local_sink_as_eml(embedded: Embedded) -> None:
    assert embedded.smtp_port is not None
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


def test_the_development_mailbox_is_there_on_loopback(embedded: Embedded) -> None:
    page = requests.get(f"{embedded.base_url}/postfach", timeout=5)
    assert page.status_code == 200
    assert "Nur für die Entwicklung" in page.text


def test_two_portals_run_side_by_side(embedded: Embedded, tmp_path: Path) -> None:
    """Each with its own mail sink on a free port: nothing fixed that the other already holds."""
    second = start_portal(tmp_path, {"BP_MAIL_SINK_PORT": "0"})
    try:
        assert second.smtp_port is not None and second.smtp_port != embedded.smtp_port
        assert requests.get(second.base_url + "/", timeout=5).status_code == 200
        assert requests.get(embedded.base_url + "/", timeout=5).status_code == 200
    finally:
        second.process.stop()


def test_a_configured_smtp_server_gets_the_mail_and_no_sink_starts(tmp_path: Path) -> None:
    """One's own SMTP server on 127.0.0.1: the portal sends there instead of taking its port."""
    from notifications.adapters.mail_sink import MailSink

    own = MailSink()
    own.start(host="127.0.0.1", port=0, directory=tmp_path / "own-server")
    try:
        portal = start_portal(
            tmp_path / "portal",
            {"NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": str(own.port)},
        )
        try:
            assert portal.smtp_port is None
            assert f"E-Mails an 127.0.0.1:{own.port}" in portal.mail
            # No sink, no development mailbox.
            assert requests.get(f"{portal.base_url}/postfach", timeout=5).status_code == 404
            assert not (portal.data_dir / "mails").exists()
            # A mail the portal sends (a reset link) arrives at one's own server.
            clerk = demo_account("clerk")
            request_password_reset(portal.base_url, clerk.login)
            received = tmp_path / "own-server"
            processes.wait_until(
                "the reset mail at the own server", lambda: any(received.glob("*.eml")), timeout=60
            )
            assert clerk.email in next(received.glob("*.eml")).read_text()
        finally:
            portal.process.stop()
    finally:
        own.stop()


def request_password_reset(base_url: str, login: str) -> None:
    session = requests.Session()
    form = session.get(f"{base_url}/auth/password/forgotten", timeout=10)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    sent = session.post(
        f"{base_url}/auth/password/forgotten",
        data={"csrf_token": token.group(1), "login": login},
        timeout=10,
    )
    assert sent.status_code in (200, 302, 303), sent.status_code


@pytest.mark.parametrize("taken", ["BP_MAIL_SINK_PORT", "PORT", "BP_INTERNAL_PORT"])
def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path, taken: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        env = {
            **clean_environment(),
            "BP_DATA_DIR": str(tmp_path),
            "PORT": str(processes.free_port()),
            "BP_MAIL_SINK_PORT": "0",
            taken: str(port),
        }
        finished = subprocess.run(
            [sys.executable, "-P", "-m", "gateway.embedded"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 1, output
    assert "Traceback" not in output
    (line,) = [line for line in finished.stderr.splitlines() if f"Port {port}" in line]
    assert "ist belegt" in line and "is in use" in line


def test_ctrl_c_stops_it_cleanly(embedded: Embedded) -> None:
    os.killpg(embedded.process.popen.pid, signal.SIGINT)
    try:
        returncode = embedded.process.popen.wait(30)
    except subprocess.TimeoutExpired:
        pytest.fail("the embedded portal did not stop within 30 s of Ctrl-C")
    assert returncode == 0
    assert not processes.port_open("127.0.0.1", int(embedded.base_url.rsplit(":", 1)[1]))

"""The distributed mode for real: every service under gunicorn with its worker, PostgreSQL,
RabbitMQ, the test's own SMTP server, and nginx in front, started and torn down by
``run_distributed`` the way an e2e test uses it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from chassis.db import normalise_url
from chassis.testing.smtp import smtp_server
from gateway import processes
from gateway.distributed import DistributedPortal, run_distributed
from gateway.routes import ROUTES, security_headers


@pytest.fixture(scope="module")
def portal(
    postgres_admin_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DistributedPortal]:
    run_id = uuid.uuid4().hex[:8]
    prefix = f"test_{run_id}_"
    ports = {route.service: processes.free_port() for route in ROUTES}
    with (
        smtp_server() as (smtp_host, smtp_port, _mails),
        run_distributed(
            {"BP_QUEUE_PREFIX": f"test-{run_id}.", "BP_EXCHANGE": f"test-{run_id}.events"},
            tmp_path_factory.mktemp("distributed"),
            edge_port=processes.free_port(),
            ports=ports,
            postgres_url=postgres_admin_url,
            amqp_url=amqp_url,
            database_prefix=prefix,
            smtp=(smtp_host, smtp_port),
            gunicorn_workers=1,
            gunicorn_threads=4,
            drop_databases_on_exit=True,
            delete_topology_on_exit=True,
        ) as running,
    ):
        yield running
        pids = [process.popen.pid for process in running.processes]
    # Torn down: no process group is left, and the test's databases are gone.
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    engine = sa.create_engine(normalise_url(postgres_admin_url))
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
    engine.dispose()
    assert [name for name in names if name.startswith(prefix)] == []


def test_every_route_is_reachable_through_the_edge(portal: DistributedPortal) -> None:
    for route in ROUTES:
        if route.strips_prefix:
            response = requests.get(f"{portal.base_url}{route.prefix}/healthz", timeout=5)
            assert response.status_code == 200, route.prefix
            assert response.json() == {"status": "ok"}
            assert response.headers["X-Frame-Options"] == "DENY"
            # Readiness and metrics are for operators on the service's own port.
            assert requests.get(f"{portal.base_url}{route.prefix}/readyz", timeout=5).status_code == 404
            assert requests.get(f"{portal.service_url(route.service)}/readyz", timeout=5).status_code == 200


def test_identity_publishes_public_urls_behind_the_proxy(portal: DistributedPortal) -> None:
    discovery = requests.get(f"{portal.base_url}/auth/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == f"{portal.base_url}/auth"
    assert discovery["authorization_endpoint"].startswith(f"{portal.base_url}/auth/")
    keys = requests.get(discovery["jwks_uri"], timeout=5)
    assert keys.status_code == 200
    assert keys.json()["keys"]


def test_the_web_ui_answers_at_the_root_with_one_strict_csp(portal: DistributedPortal) -> None:
    response = requests.get(portal.base_url + "/", timeout=5)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    (csp,) = response.raw.headers.getlist("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert response.raw.headers.getlist(name) == [security_headers()[name]]


def test_api_without_a_token_is_refused_by_the_service(portal: DistributedPortal) -> None:
    response = requests.get(f"{portal.base_url}/api/training/contracts", timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_every_process_is_up(portal: DistributedPortal) -> None:
    names = {process.name for process in portal.processes}
    for service in ("identity", "training-records", "exams", "documents", "notifications"):
        assert {service, f"{service}-worker"} <= names
    assert {"notifications-mailer", "web", "nginx"} <= names
    assert portal.dead() == []

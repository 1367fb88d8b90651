"""The end-to-end tier: the whole portal in distributed mode on this host.

gunicorn per service, each service's worker (every background job it declares),
RabbitMQ, one fresh PostgreSQL database per service, nginx at the edge, a real
SMTP server (aiosmtpd) receiving the mails, and Debian's Chromium driven by
Playwright. Nothing is faked; a missing piece fails the run.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from chassis.testing.browser import launch_chromium
from chassis.testing.smtp import CollectingHandler, smtp_server


@dataclass
class Portal:
    base_url: str
    mailbox: CollectingHandler
    portal: object


@pytest.fixture(scope="session")
def portal(
    postgres_admin_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    from gateway.distributed import generate_secrets, run_distributed
    from gateway.processes import free_port

    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is not installed (make test installs it)", pytrace=False)
    namespace = f"e2e{uuid.uuid4().hex[:8]}"
    services = ("web", "identity", "training-records", "exams", "documents", "notifications")
    ports = {service: free_port() for service in services}
    with (
        smtp_server() as (smtp_host, smtp_port, mailbox),
        run_distributed(
            env_overrides={
                "BP_EXCHANGE": f"{namespace}.events",
                "BP_QUEUE_PREFIX": f"{namespace}.",
                "BP_LOG_JSON": "1",
                # As in containers: the web UI's back channel goes to identity directly.
                "BP_OIDC_INTERNAL_URL": f"http://127.0.0.1:{ports['identity']}",
            }
            # The distributed mode takes every secret from the environment.
            | generate_secrets(),
            data_dir=tmp_path_factory.mktemp("portal"),
            edge_port=free_port(),
            ports=ports,
            postgres_url=postgres_admin_url,
            amqp_url=amqp_url,
            database_prefix=f"{namespace}_",
            smtp=(smtp_host, smtp_port),
            gunicorn_workers=1,
            drop_databases_on_exit=True,
            delete_topology_on_exit=True,
        ) as running,
    ):
        yield Portal(running.base_url, mailbox, running)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright)
    yield browser
    browser.close()

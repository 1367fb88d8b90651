"""Processes die in the middle of a flow; the distributed mode brings them back (DESIGN §5).

The whole portal runs as ``make run-distributed`` runs it (``run_distributed``): every
service under gunicorn with several workers, its event worker, RabbitMQ, PostgreSQL,
nginx at the edge and a real SMTP server, on databases created fresh for this module.

- A first start on fresh databases with several gunicorn workers per service boots:
  no worker races another over a schema (migrations run once, before the workers).
- About 150 contracts are registered through the edge while the documents worker (it
  renders the confirmations) and the process that sends the mails are killed with
  SIGKILL, each in the middle of its work. The supervisor starts them again; the
  registrations never stop being served; at the end every contract has its account,
  its two confirmations and its two mails, and nothing exists twice (a mail the killed
  sender had in flight may be delivered again, with its Message-ID as idempotency key).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from chassis.db import normalise_url
from chassis.demo import DEMO_COMPANY
from chassis.testing.oidc_login import access_token
from chassis.testing.smtp import CollectingHandler, smtp_server
from gateway import processes
from gateway.distributed import DistributedPortal, generate_secrets, run_distributed
from gateway.processes import ManagedProcess
from gateway.routes import ROUTES

GUNICORN_WORKERS = 3
CONTRACTS = 150
LEASE_SECONDS = 10
# At most this many mails are claimed at once by the sender (notifications' batch size).
MAIL_BATCH = 20
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Portal:
    running: DistributedPortal
    mailbox: CollectingHandler
    run_id: str

    def database(self, service: str) -> sa.Engine:
        return sa.create_engine(normalise_url(self.running.options.database_url(service)))


@pytest.fixture(scope="module")
def portal(
    postgres_admin_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Portal]:
    run_id = uuid.uuid4().hex[:8]
    with (
        smtp_server() as (smtp_host, smtp_port, mailbox),
        run_distributed(
            {
                "BP_QUEUE_PREFIX": f"faults-{run_id}.",
                "BP_EXCHANGE": f"faults-{run_id}.events",
                # One login for the whole flow.
                "IDENTITY_ACCESS_TOKEN_SECONDS": "1800",
                # A mail claimed by the killed sender is retried when its lease ends (default 5 min).
                "NOTIFICATIONS_MAIL_LEASE": str(LEASE_SECONDS),
                "NOTIFICATIONS_MAIL_BATCH_SIZE": str(MAIL_BATCH),
            }
            | generate_secrets(),
            tmp_path_factory.mktemp("faults"),
            edge_port=processes.free_port(),
            ports={route.service: processes.free_port() for route in ROUTES},
            postgres_url=postgres_admin_url,
            amqp_url=amqp_url,
            # Databases that do not exist yet: created, migrated and seeded by this start.
            database_prefix=f"faults_{run_id}_",
            smtp=(smtp_host, smtp_port),
            gunicorn_workers=GUNICORN_WORKERS,
            gunicorn_threads=2,
            ready_timeout=180,
            drop_databases_on_exit=True,
            delete_topology_on_exit=True,
        ) as running,
    ):
        yield Portal(running, mailbox, run_id)


def _children(process: ManagedProcess) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()}


def test_a_first_start_on_fresh_databases_with_several_workers_per_service(portal: Portal) -> None:
    running = portal.running
    for route in {route.service: route for route in ROUTES}.values():
        master = running.process(route.service)
        assert len(_children(master)) == GUNICORN_WORKERS, route.service
        log = master.tail(lines=100_000)
        for failure in ("Traceback", "Worker failed to boot", "Exception in worker process"):
            assert failure not in log, f"{route.service}: {failure}\n{log}"
    assert running.dead() == []
    assert all(process.restarts == 0 for process in running.processes)

    # Every worker of the UI serves pages and sessions from its own tables (new connections
    # spread the requests over the workers).
    def page(_: int) -> int:
        with requests.Session() as http:
            return http.get(running.base_url + "/", timeout=10).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(page, range(30))) == {200}


# -- the flow ---------------------------------------------------------------------------------------


def clerk_token(base_url: str, client_secret: str) -> str:
    """A chamber clerk's access token, the way the browser UI gets one: code flow with PKCE."""
    return access_token(base_url, client_secret, "clerk")


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def address(mail: Any) -> str:
    return str(mail["To"]).split("<")[-1].rstrip(">").strip()


def kill(process: ManagedProcess) -> int:
    """SIGKILL the process (no chance to clean up or ack); returns the pid it had."""
    pid = process.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def mail_sender(running: DistributedPortal) -> ManagedProcess:
    """The process that talks SMTP (notifications' mailer, or its worker where that sends the mails)."""
    names = {process.name for process in running.processes}
    return running.process(
        "notifications-mailer" if "notifications-mailer" in names else "notifications-worker"
    )


def test_killed_workers_in_the_middle_of_a_flow_lose_nothing_and_apply_nothing_twice(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    running, mailbox = portal.running, portal.mailbox
    caplog.set_level(logging.WARNING, logger="gateway.processes")
    token = clerk_token(running.base_url, running.env["BP_WEB_CLIENT_SECRET"])
    documents_worker, sender = running.process("documents-worker"), mail_sender(running)
    first = len(mailbox.messages)
    company = DEMO_COMPANY["company_number"]
    emails = [f"azubi-{index:03d}-{portal.run_id}@faults.example" for index in range(CONTRACTS)]

    def register(index: int) -> tuple[int, str]:
        body: dict[str, Any] = {
            "company": {"company_number": company},
            "apprentice": {
                "first_name": "Fehler",
                "last_name": f"Toleranz {index:03d}",
                "birth_date": "2008-05-17",
                "email": emails[index],
            },
            "occupation_code": "78100",
            "start_date": date(date.today().year + 1, 8, 1).isoformat(),
            "end_date": date(date.today().year + 4, 7, 31).isoformat(),
        }
        with requests.Session() as http:
            response = http.post(
                f"{running.base_url}/api/training/contracts",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        return response.status_code, response.json().get("id", response.text)

    killed: dict[str, int] = {}

    def faults() -> None:
        # The documents worker once confirmations are being issued, the sender once mails go out.
        wait_for("the first mails", lambda: len(mailbox.messages) >= first + 10, 120)
        killed[documents_worker.name] = kill(documents_worker)
        wait_for("more mails", lambda: len(mailbox.messages) >= first + 60, 180)
        killed[sender.name] = kill(sender)

    with ThreadPoolExecutor(max_workers=5) as pool:
        saboteur = pool.submit(faults)
        results = list(pool.map(register, range(CONTRACTS)))
        saboteur.result()

    # Registering was served all along, through the edge, by the processes nobody killed.
    assert [status for status, _ in results] == [201] * CONTRACTS, results
    contract_ids = [contract_id for _, contract_id in results]

    # Nothing lost: two mails per contract (the company's and the apprentice's confirmation) arrive.
    # A mail the killed sender had handed to SMTP but not yet recorded as sent goes again once
    # its lease ends, with the same Message-ID (its idempotency key, DESIGN §2 rule 4): "once"
    # means once per Message-ID, and only the mails in flight at the kill may arrive twice.
    expected = 2 * CONTRACTS

    def by_message_id() -> dict[str, list[str]]:
        delivered: dict[str, list[str]] = {}
        for mail in mailbox.messages[first:]:
            delivered.setdefault(str(mail["Message-ID"]), []).append(address(mail))
        return delivered

    wait_for(f"{expected} distinct mails", lambda: len(by_message_id()) >= expected, 120)
    time.sleep(LEASE_SECONDS + 5)  # a duplicate comes late (after the lease): give it the time to
    delivered = by_message_id()
    assert len(delivered) == expected
    assert all(len(set(recipients)) == 1 for recipients in delivered.values())
    again = sum(len(recipients) - 1 for recipients in delivered.values())
    assert again <= MAIL_BATCH, f"{again} mails delivered twice; only the in-flight batch may be"
    per_recipient = Counter(recipients[0] for recipients in delivered.values())
    # Nothing twice: each apprentice got one mail, the company one per contract.
    assert {email: per_recipient[email] for email in emails} == dict.fromkeys(emails, 1)
    assert sum(count for email, count in per_recipient.items() if email not in emails) == CONTRACTS

    engine = portal.database("documents")
    try:
        with engine.connect() as conn:
            issued = conn.execute(
                sa.text(
                    "SELECT contract_id, recipient_kind FROM documents WHERE contract_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": contract_ids},
            ).all()
    finally:
        engine.dispose()
    assert Counter(kind for _, kind in issued) == {"company": CONTRACTS, "apprentice": CONTRACTS}

    # identity prepared every apprentice's account, and training-records learned of it.
    with requests.Session() as http:
        apprentices = [
            http.get(
                f"{running.base_url}/api/training/contracts/{contract_id}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()["apprentice"]
            for contract_id in contract_ids
        ]
    assert {apprentice["account_state"] for apprentice in apprentices} == {"prepared"}
    # One account each, none made twice.
    assert len({apprentice["apprentice_number"] for apprentice in apprentices} - {None}) == CONTRACTS

    # The supervisor brought both back, saying so once each; nothing else was touched.
    for process in (documents_worker, sender):
        assert process.alive and process.pid != killed[process.name] and process.restarts == 1, process.name
        (line,) = [
            record.getMessage()
            for record in caplog.records
            if record.getMessage().startswith(f"{process.name} (pid {killed[process.name]}) exited")
        ]
        assert "signal SIGKILL" in line
    untouched = [process for process in running.processes if process not in (documents_worker, sender)]
    assert [process.name for process in untouched if process.restarts] == []
    assert running.dead() == []

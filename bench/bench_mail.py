"""Benchmark (c): the notifications mail sender vs raw smtplib, to the same aiosmtpd server.

Sender side: the real worker process, ``bp-notifications worker --only mailer`` (as the
distributed mode runs it), on its own PostgreSQL database. N pending mails are committed in one
transaction (with the NOTIFY that wakes the sender); the clock runs from that commit until the
SMTP server has accepted the N-th mail. Reference: one smtplib connection sending the same N
messages, rendered beforehand (so the reference pays for nothing but SMTP), ``sendmail`` after
``sendmail``. Both talk to the same server: the tests' aiosmtpd fixture
(``chassis.testing.smtp.smtp_server``), in a process of its own, which counts a mail when it has
answered its DATA with 250. Rounds alternate which side goes first.

Figure: accepted mails per second, the sender's as a share of the reference's (median of the
per-round ratios). Also reported: commit → all marked sent in the database, and any Message-ID
the server received twice (must be none).
"""

from __future__ import annotations

import multiprocessing
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from chassis.db import normalise_url
from chassis.testing.infrastructure import fresh_database
from chassis.testing.smtp import smtp_server

SENDER = "Bildungsportal der IHK <noreply@bildungsportal.example>"
ENVELOPE_SENDER = "noreply@bildungsportal.example"
TARGET_RATIO = 0.7
READY_LINE = "notifications: worker running (notifications-mailer)"


# -- the SMTP server, in a process of its own ----------------------------------------------------


def _serve(port: int, control: Connection) -> None:
    """The test fixture's server; answers ``n`` with (accepted, monotonic time of the n-th, Message-IDs)."""
    with smtp_server(port=port) as (_, _, received):
        control.send("ready")
        while (want := control.recv()) is not None:
            messages = received.wait_for(want, timeout=600)
            at = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            control.send((len(messages), at, [str(m["Message-ID"]) for m in messages]))


class Server:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.port, child), daemon=True)
        self._process.start()
        if not self._control.poll(60) or self._control.recv() != "ready":
            raise RuntimeError("the SMTP server did not start")
        self.expected = 0

    def accepted(self, more: int) -> tuple[float, list[str]]:
        """Wait until ``more`` further mails are accepted: when the last was, and every Message-ID so far."""
        self.expected += more
        self._control.send(self.expected)
        count, at, ids = self._control.recv()
        if count < self.expected:
            raise RuntimeError(f"the server accepted {count} of {self.expected} mails in time")
        return at, ids

    def close(self) -> None:
        self._control.send(None)
        self._process.join(timeout=10)


# -- the mails ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    message_id: str
    name: str
    email: str
    subject: str
    text: str
    html: str


def compose(count: int) -> list[Mail]:
    """Mails like the document mails of a bulk import (German, umlauts, text + HTML)."""
    mails = []
    for index in range(count):
        key = str(uuid.uuid4())
        name = f"Jürgen Müller {index}" if index % 2 else f"Muster Maschinenbau GmbH {index}"
        title = f"Eintragungsbestätigung 2026-{index:06d}"
        text = (
            f"Guten Tag {name},\n\nim Bildungsportal der IHK liegt ein neues Dokument für Sie bereit:\n\n"
            f"    {title}\n\nSie finden es nach der Anmeldung im Menü „Dokumente“.\n\n"
            "Zum Bildungsportal: https://portal.example/\n\n"
            "Aus Sicherheitsgründen enthalten unsere E-Mails niemals Passwörter oder Aktivierungscodes.\n\n"
            "Freundliche Grüße\nIhr Bildungsportal der IHK\n\n-- \n"
            "Diese E-Mail wurde automatisch versandt. Bitte antworten Sie nicht darauf.\n"
        )
        paragraphs = "".join(f"<p>{line}</p>\n" for line in text.split("\n\n"))
        html = (
            '<!DOCTYPE html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>Neues Dokument im Bildungsportal</title>\n</head>\n"
            '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5;">\n'
            f'<main>\n<h1 style="font-size: 20px;">Neues Dokument im Bildungsportal</h1>\n{paragraphs}</main>\n'
            "</body>\n</html>\n"
        )
        mails.append(
            Mail(
                message_id=f"<{key}@bildungsportal>",
                name=name,
                email=f"empfaenger{index}-{key[:8]}@example.org",
                subject=f"Neues Dokument im Bildungsportal: {title}",
                text=text,
                html=html,
            )
        )
    return mails


def rendered(mail: Mail) -> bytes:
    """The reference's message: the standard library's, rendered before the clock starts."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = SENDER
    message["To"] = f"{mail.name} <{mail.email}>"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = mail.message_id
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message.as_bytes(policy=SMTP)


# -- the two sides ------------------------------------------------------------------------------


def _cli() -> list[str]:
    return [str(Path(sys.executable).with_name("bp-notifications"))]


class Harness:
    def __init__(self, database_url: str, server: Server, workdir: Path) -> None:
        self.server = server
        self.env = {
            **os.environ,
            "NOTIFICATIONS_DATABASE_URL": database_url,
            "BP_BUS_URL": "memory://",
            "BP_DATA_DIR": str(workdir),
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(server.port),
            "NOTIFICATIONS_MAIL_FROM": SENDER,
        }
        subprocess.run([*_cli(), "migrate"], env=self.env, check=True, capture_output=True)
        self.engine = sa.create_engine(normalise_url(database_url))
        self.mails = sa.Table("mails", sa.MetaData(), autoload_with=self.engine)
        self.log = (workdir / "mailer.log").open("w")
        self.worker: subprocess.Popen[str] | None = None

    @contextmanager
    def running_sender(self) -> Iterator[None]:
        """The mailer worker process, listening for NOTIFY, until the block ends (SIGTERM)."""
        worker = subprocess.Popen(
            [*_cli(), "worker", "--only", "mailer"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        try:
            assert worker.stdout is not None
            line = worker.stdout.readline().strip()
            if line != READY_LINE:
                raise RuntimeError(f"the mailer did not start: {line!r}")
            deadline = time.monotonic() + 30
            while not self._listening():
                if time.monotonic() > deadline:
                    raise RuntimeError("the mailer does not LISTEN")
                time.sleep(0.05)
            self.worker = worker
            yield
        finally:
            self.worker = None
            worker.terminate()
            worker.wait(timeout=30)

    def _listening(self) -> bool:
        with self.engine.connect() as conn:
            query = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = 'LISTEN notifications_mails'"
            )
            return bool(conn.execute(sa.text(query)).scalar())

    def queue(self, mails: list[Mail]) -> float:
        """Commit the mails as pending rows in one transaction that wakes the sender; when it committed."""
        now = datetime.now(UTC)
        rows = [
            {
                "id": str(uuid.uuid4()),
                "idempotency_key": mail.message_id[1:37],
                "message_id": mail.message_id,
                "recipient_name": mail.name,
                "recipient_email": mail.email,
                "subject": mail.subject,
                "text_body": mail.text,
                "html_body": mail.html,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for mail in mails
        ]
        with self.engine.begin() as conn:
            conn.execute(self.mails.insert(), rows)
            conn.execute(sa.text("NOTIFY notifications_mails"))
        return time.monotonic()

    def unsent(self) -> int:
        with self.engine.connect() as conn:
            c = self.mails.c
            return int(conn.execute(sa.select(sa.func.count()).where(c.status != "sent")).scalar_one())

    def worker_cpu(self) -> float:
        """CPU seconds (user + system) the mailer process has used so far (Linux /proc)."""
        assert self.worker is not None
        fields = Path(f"/proc/{self.worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sender_round(self, count: int) -> dict[str, Any]:
        mails = compose(count)
        cpu = self.worker_cpu()
        committed = self.queue(mails)
        accepted_at, ids = self.server.accepted(count)
        while self.unsent():
            time.sleep(0.02)
        recorded_at = time.monotonic()
        return {
            "rps": count / (accepted_at - committed),
            "recorded_s": recorded_at - committed,
            "cpu_ms_per_mail": (self.worker_cpu() - cpu) * 1000 / count,
            "ids": ids,
        }

    def raw_round(self, count: int) -> dict[str, Any]:
        messages = [(mail.email, rendered(mail)) for mail in compose(count)]
        smtp = smtplib.SMTP("127.0.0.1", self.server.port, timeout=30)
        try:
            smtp.ehlo()
            started = time.monotonic()
            for recipient, data in messages:
                smtp.sendmail(ENVELOPE_SENDER, [recipient], data)
            accepted_at, ids = self.server.accepted(count)
        finally:
            smtp.quit()
        return {"rps": count / (accepted_at - started), "ids": ids}

    def close(self) -> None:
        self.log.close()
        self.engine.dispose()


def checkpoint(admin_url: str) -> None:
    engine = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    finally:
        engine.dispose()


def run(admin_url: str, *, rounds: int = 3, count: int = 2000, settle: float = 1.0) -> dict[str, Any]:
    rps: dict[str, list[float]] = {"sender": [], "raw": []}
    recorded: list[float] = []
    cpu: list[float] = []
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(admin_url, "bench_mail"))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        server = Server()
        stack.callback(server.close)
        harness = Harness(database_url, server, workdir)
        stack.callback(harness.close)
        stack.enter_context(harness.running_sender())
        harness.sender_round(20)  # warm: the session, the mappers, the first plans
        harness.raw_round(20)
        checkpoint(admin_url)
        time.sleep(settle)
        ids: list[str] = []
        for index in range(rounds):
            checkpoint(admin_url)  # the previous round's writes, flushed before measuring
            for side in ("sender", "raw") if index % 2 == 0 else ("raw", "sender"):
                result = harness.sender_round(count) if side == "sender" else harness.raw_round(count)
                rps[side].append(result["rps"])
                ids = result["ids"]
                if side == "sender":
                    recorded.append(result["recorded_s"])
                    cpu.append(result["cpu_ms_per_mail"])
                time.sleep(settle)
        duplicates = sum(n - 1 for n in Counter(ids).values() if n > 1)
    ratio = statistics.median(s / r for s, r in zip(rps["sender"], rps["raw"], strict=True))
    sender_rps = statistics.median(rps["sender"])
    return {
        "name": "mail: notifications mailer worker (PostgreSQL, SMTP) vs raw smtplib over one connection",
        "sender": {"rps": round(sender_rps, 1), "rounds_rps": [round(r, 1) for r in rps["sender"]]},
        "raw": {
            "rps": round(statistics.median(rps["raw"]), 1),
            "rounds_rps": [round(r, 1) for r in rps["raw"]],
        },
        "ratio": round(ratio, 3),
        # commit of the batch → every mail marked sent in the database
        "recorded_s": [round(r, 2) for r in recorded],
        # CPU the mailer process spends per mail (claim, render, SMTP, record, its log lines)
        "sender_cpu_ms_per_mail": round(statistics.median(cpu), 3),
        "seconds_for_20000": round(20000 / sender_rps, 1),
        "duplicates": duplicates,
        "target": f"accepted mails/s >= {TARGET_RATIO} of raw smtplib (median of per-round ratios); no duplicates",
        "passed": ratio >= TARGET_RATIO and duplicates == 0,
        "context": {"rounds": rounds, "mails_per_round": count, "server": "chassis.testing.smtp (aiosmtpd)"},
    }


if __name__ == "__main__":
    import json

    quick = os.environ.get("BENCH_QUICK") == "1"
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    print(json.dumps(run(url, rounds=1 if quick else 3, count=300 if quick else 2000), indent=2))

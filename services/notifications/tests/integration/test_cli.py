"""``bp-notifications`` as the distributed mode runs it: migrate, the mailer as a worker process, the mail tools."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import sqlalchemy as sa
from click.testing import CliRunner

from chassis.events.consumer import parse_message
from chassis.testing.smtp import smtp_server
from notifications.domain.model import MailStatus
from notifications.entrypoints.cli import cli

CLI = "from notifications.entrypoints.cli import cli; cli()"


def _listening(runtime) -> bool:
    """Whether a session of this database is LISTENing for new mails."""
    with runtime.engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = 'LISTEN notifications_mails'"
                )
            ).scalar()
        )


def test_the_mailer_is_a_declared_worker(pg_service) -> None:
    names = [worker.name for worker in pg_service.runtime.workers()]
    assert names[-1] == "mailer" and {"relay", "retention", "consumer"} <= set(names)


def test_mailer_process_is_woken_by_a_new_mail_and_stops_on_sigterm(
    pg_service, runtime_env, database_url, amqp_url, issued_envelope, smtp_port, wait_until, tmp_path
) -> None:
    # A long poll interval: only the NOTIFY from the committing unit of work can explain a quick delivery.
    env = {
        **os.environ,
        **runtime_env,
        "NOTIFICATIONS_DATABASE_URL": database_url,
        "BP_BUS_URL": amqp_url,
        "NOTIFICATIONS_MAIL_POLL_INTERVAL": "60",
    }
    log = tmp_path / "mailer.log"
    with smtp_server(port=smtp_port) as (_, _, received), log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, "worker", "--only", "mailer"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "notifications: worker running (notifications-mailer)"
            wait_until(lambda: _listening(pg_service.runtime), timeout=10)
            event = parse_message(issued_envelope(kind="company").to_json())
            # Handled in this process (as the consumer of a worker would): only the NOTIFY of its
            # commit can wake the mailer in the other one.
            assert pg_service.runtime.bus.handle_event(event) == "handled"
            [message] = received.wait_for(1, timeout=10)
            assert message["Message-ID"] == f"<{event.envelope.id}@bildungsportal>"
            wait_until(lambda: pg_service.mails()[0].status is MailStatus.SENT)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=20)
    assert process.returncode == 0, log.read_text()


def test_migrate_and_mail_tools(runtime_env, tmp_path) -> None:
    env = {**runtime_env, "NOTIFICATIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    assert "database at head" in migrated.output
    listed = runner.invoke(cli, ["mails-list", "--status", "failed"], env=env)
    assert listed.exit_code == 0 and "0 mail(s)" in listed.output
    retried = runner.invoke(cli, ["mails-retry"], env=env)
    assert retried.exit_code == 0 and "requeued 0 failed mail(s)" in retried.output

"""``bp-notifications``: the chassis commands plus the mail sender and mail outbox tools."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime

import click

from chassis.cli import service_cli
from chassis.service import ServiceRuntime
from notifications.bootstrap import bootstrap
from notifications.domain.model import MailStatus
from notifications.entrypoints.mailer import start_mail_sender


@click.command()
@click.pass_obj
def mailer(runtime: ServiceRuntime) -> None:
    """Send the pending mails over SMTP until SIGTERM/SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = start_mail_sender(runtime, stop)
    click.echo(f"{runtime.name}: mail sender running")
    while thread.is_alive() and not stop.wait(0.5):
        pass
    stop.set()
    thread.join(timeout=15)


@click.command("mails-list")
@click.option("--status", type=click.Choice([s.value for s in MailStatus]), default=None)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def mails_list(runtime: ServiceRuntime, status: str | None, limit: int) -> None:
    """Show the newest mails of the mail outbox (no bodies)."""
    with runtime.uow_factory() as uow:
        rows = uow.mails.list(MailStatus(status) if status else None, limit)  # type: ignore[attr-defined]
    for mail in rows:
        click.echo(
            f"{mail.created_at:%Y-%m-%d %H:%M:%S}  {mail.status.value:<7}  attempts={mail.attempts}  "
            f"{mail.message_id}  {mail.recipient_email}  {mail.last_error or ''}"
        )
    click.echo(f"{len(rows)} mail(s)")


@click.command("mails-retry")
@click.pass_obj
def mails_retry(runtime: ServiceRuntime) -> None:
    """Put every failed mail back in the queue (e.g. after fixing the SMTP settings)."""
    with runtime.uow_factory() as uow:
        count = uow.mails.requeue_failed(datetime.now(UTC))  # type: ignore[attr-defined]
        uow.commit()
    click.echo(f"requeued {count} failed mail(s)")


cli = service_cli(bootstrap, extra_commands=[mailer, mails_list, mails_retry])

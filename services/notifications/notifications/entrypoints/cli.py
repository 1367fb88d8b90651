"""``bp-notifications``: the chassis commands (migrate, worker, DLQ tools) plus the mail outbox tools.

The mail sender is one of the service's declared workers: ``bp-notifications worker`` runs it
with the others, ``bp-notifications worker --only mailer`` alone.
"""

from __future__ import annotations

import click

from chassis.cli import service_cli
from notifications.bootstrap import NotificationsRuntime, bootstrap, seed_demo
from notifications.domain.commands import RetryFailedMails
from notifications.domain.model import MailStatus
from notifications.domain.queries import ListMails


@click.command("mails-list")
@click.option("--status", type=click.Choice([s.value for s in MailStatus]), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def mails_list(runtime: NotificationsRuntime, status: str | None, limit: int) -> None:
    """Show the newest mails of the mail outbox (no bodies)."""
    mails = runtime.bus.handle(ListMails(MailStatus(status) if status else None, limit))
    for mail in mails:
        click.echo(
            f"{mail.created_at:%Y-%m-%d %H:%M:%S}  {mail.status.value:<7}  attempts={mail.attempts}  "
            f"{mail.message_id}  {mail.recipient_email}  {mail.last_error or ''}"
        )
    click.echo(f"{len(mails)} mail(s)")


@click.command("mails-retry")
@click.pass_obj
def mails_retry(runtime: NotificationsRuntime) -> None:
    """Put every failed mail back in the queue (e.g. after fixing the SMTP settings)."""
    count = runtime.bus.handle(RetryFailedMails())
    click.echo(f"requeued {count} failed mail(s)")


cli = service_cli(bootstrap, seed_demo=seed_demo, extra_commands=[mails_list, mails_retry])

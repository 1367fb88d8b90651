"""Wires notifications: its typed runtime (mail settings, mail sender, clock), built from settings.

The bootstrap never imports the entrypoints; they import it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime, Worker, build_runtime
from notifications import config
from notifications.adapters import orm
from notifications.adapters.mail_listener import start_mail_listener
from notifications.adapters.smtp import SmtpTransport
from notifications.config import MailSettings
from notifications.domain.commands import VoidExpiredLinks
from notifications.domain.model import RetryPolicy
from notifications.service_layer import account_mails, handlers, invitations
from notifications.service_layer.delivery import MailSender, MailTransport
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork, wake_sender_on_commit

log = logging.getLogger(__name__)

# notifications' use cases, one module per area (chassis.messagebus.collect_use_cases).
USE_CASES = (handlers, account_mails, invitations)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class NotificationsRuntime(ServiceRuntime[NotificationsUnitOfWork]):
    """The chassis' parts plus the mail sender's: its settings, transport, wake-up and clock."""

    mail: MailSettings
    mail_transport: MailTransport
    # Set after a commit in this process that queued mail (see wake_sender_on_commit).
    mail_wakeup: threading.Event
    clock: Callable[[], datetime]
    link_scrub_interval: float = 300.0

    def mail_sender(self) -> MailSender:
        mail = self.mail
        return MailSender(
            self.uow_factory,
            self.mail_transport,
            RetryPolicy(mail.max_attempts, mail.retry_base, mail.retry_max),
            wakeup=self.mail_wakeup,
            poll_interval=mail.poll_interval,
            lease=timedelta(seconds=mail.lease),
            batch_size=mail.batch_size,
            sessions=mail.sessions,
            session_idle=mail.smtp_session_idle,
            gather=mail.gather,
            clock=self.clock,
        )

    def run_mailer(self, stop: threading.Event) -> None:
        """The mail sender until ``stop``, woken by commits here and, on PostgreSQL, in other processes."""
        sender = self.mail_sender()
        listener = start_mail_listener(self.engine, self.mail_wakeup, stop, name=f"{self.name}-mailer-listen")
        log.info("mail sender running (SMTP %s:%d)", self.mail.smtp_host, self.mail.smtp_port)
        sender.run(stop)
        if listener is not None:
            listener.join(timeout=2)

    def run_link_scrubber(self, stop: threading.Event) -> None:
        """Every few minutes: stored mails whose one-time link expired lose it."""
        while not stop.wait(self.link_scrub_interval):
            try:
                self.bus.handle(VoidExpiredLinks())
            except Exception:  # the next round tries again; a database outage must not end the worker
                log.exception("could not remove expired links from stored mails")

    def workers(self) -> list[Worker]:
        return [
            *super().workers(),
            Worker("link-scrubber", self.run_link_scrubber),
            Worker("mailer", self.run_mailer),
        ]


def bootstrap(
    settings: ServiceSettings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
    mail_transport: MailTransport | None = None,
) -> NotificationsRuntime:
    """``mail_transport``: how mails leave (default: SMTP as the settings say)."""
    orm.start_mappers()
    settings = settings or config.settings()
    mail = MailSettings.from_extra(settings.extra)
    dependencies: dict[str, Any] = {"clock": clock, "portal_url": settings.public_url + "/"}
    runtime = build_runtime(
        NotificationsRuntime,
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=NotificationsUnitOfWork,
        use_cases=USE_CASES,
        handler_dependencies=dependencies,
        engine=engine,
        mail=mail,
        mail_transport=mail_transport or SmtpTransport(mail),
        mail_wakeup=threading.Event(),
        clock=clock,
    )
    wake_sender_on_commit(runtime.session_factory, runtime.mail_wakeup)
    return runtime


def seed_demo(runtime: NotificationsRuntime) -> None:
    """Nothing to seed: demo data raises no events, so there are no notices or mails yet."""
    del runtime

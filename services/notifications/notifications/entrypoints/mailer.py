"""The mail sender as a background worker of this service.

``chassis.service.ServiceRuntime.start_background`` starts only the relay and
the consumer, so every runner of notifications must also call
``start_mail_sender(runtime, stop)`` (embedded mode) or run
``bp-notifications mailer`` (distributed mode).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from chassis.context import service_var
from chassis.service import ServiceRuntime
from notifications.adapters.smtp import SmtpTransport
from notifications.config import MAIL_SETTINGS, MAIL_WAKEUP, MailSettings
from notifications.domain.model import RetryPolicy
from notifications.service_layer.delivery import MailSender
from notifications.service_layer.unit_of_work import MAIL_CHANNEL

log = logging.getLogger(__name__)


def mail_sender(runtime: ServiceRuntime) -> MailSender:
    settings: MailSettings = runtime.extras[MAIL_SETTINGS]
    return MailSender(
        runtime.uow_factory,
        SmtpTransport(settings),
        RetryPolicy(settings.max_attempts, settings.retry_base, settings.retry_max),
        wakeup=runtime.extras[MAIL_WAKEUP],
        poll_interval=settings.poll_interval,
        lease=timedelta(seconds=settings.lease),
        batch_size=settings.batch_size,
    )


def start_mail_sender(runtime: ServiceRuntime, stop: threading.Event) -> threading.Thread:
    """Start the mail sender in a daemon thread; it ends soon after ``stop`` is set."""
    sender = mail_sender(runtime)

    def run() -> None:
        service_var.set(runtime.name)
        listener = _start_listener(runtime, sender.wakeup, stop)
        settings: MailSettings = runtime.extras[MAIL_SETTINGS]
        log.info("mail sender running (SMTP %s:%d)", settings.smtp_host, settings.smtp_port)
        sender.run(stop)
        if listener is not None:
            listener.join(timeout=2)

    thread = threading.Thread(target=run, name=f"{runtime.name}-mailer", daemon=True)
    thread.start()
    return thread


def _start_listener(
    runtime: ServiceRuntime, wakeup: threading.Event, stop: threading.Event
) -> threading.Thread | None:
    """On PostgreSQL, LISTEN for new mails committed by another process (the consumer's)."""
    if runtime.engine.dialect.name != "postgresql":
        return None

    def listen() -> None:
        import psycopg

        url = runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {MAIL_CHANNEL}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wakeup.set()
            except Exception:  # polling covers the gap until LISTEN is back
                log.info("mail LISTEN connection lost; polling until it is back", exc_info=True)
                stop.wait(2.0)

    thread = threading.Thread(target=listen, name=f"{runtime.name}-mailer-listen", daemon=True)
    thread.start()
    return thread

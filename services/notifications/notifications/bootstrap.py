"""Wires the notifications service: database, bus, unit of work, handlers, app and mail sender."""

from __future__ import annotations

import threading
from pathlib import Path

from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime, build_runtime
from notifications import config
from notifications.adapters import orm
from notifications.service_layer.handlers import make_handlers
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: ServiceSettings | None = None) -> ServiceRuntime:
    from notifications.entrypoints.app import build_app

    settings = settings or config.settings()
    runtime = build_runtime(
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS,
        uow_class=NotificationsUnitOfWork,
        app_builder=build_app,
        handlers=make_handlers(settings.public_url + "/"),
        outbox_inbox=(orm.outbox, orm.inbox),
    )
    mail_wakeup = threading.Event()
    base_factory = runtime.uow_factory

    def uow_factory() -> NotificationsUnitOfWork:
        uow = base_factory()
        assert isinstance(uow, NotificationsUnitOfWork)
        uow.mail_wakeup = mail_wakeup
        return uow

    runtime.uow_factory = uow_factory
    runtime.extras[config.MAIL_SETTINGS] = config.MailSettings.from_extra(settings.extra)
    runtime.extras[config.MAIL_WAKEUP] = mail_wakeup
    return runtime


def seed_demo(runtime: ServiceRuntime) -> None:
    """Nothing to seed: demo data raises no events, so there are no notices or mails yet."""
    del runtime

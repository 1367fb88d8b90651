"""The notifications Flask app; gunicorn runs ``create_app()``."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from notifications.bootstrap import NotificationsRuntime, bootstrap
from notifications.entrypoints.api import BLUEPRINTS


def build_app(runtime: NotificationsRuntime) -> Flask:
    return create_service_app(
        runtime,
        title="Bildungsportal – notifications",
        description=(
            "E-mail over SMTP and in-portal notices. Consumes documents.document.issued and "
            "identity.password_reset.requested; the API lists the caller's notices and marks them read."
        ),
        blueprints=BLUEPRINTS,
    )


def create_app() -> Flask:
    """gunicorn entry point: ``gunicorn 'notifications.entrypoints.app:create_app()'``."""
    return build_app(bootstrap())

"""The notifications Flask app (gunicorn: ``notifications.entrypoints.app:create_app()``)."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from chassis.service import ServiceRuntime
from notifications.entrypoints.api import blp


def build_app(runtime: ServiceRuntime) -> Flask:
    def configure(app: Flask) -> None:
        app.extensions["notifications.uow_factory"] = lambda: runtime.uow_factory()

    return create_service_app(
        runtime.settings,
        title="Bildungsportal – notifications",
        description=(
            "E-mail over SMTP and in-portal notices. Consumes documents.document.issued and "
            "identity.password_reset.requested; "
            "the API lists the caller's notices and marks them read."
        ),
        blueprints=[blp],
        readiness_checks=runtime.readiness_checks(),
        token_validator=runtime.token_validator,
        configure=configure,
    )


def create_app() -> Flask:
    from notifications.bootstrap import bootstrap

    return bootstrap().create_app()

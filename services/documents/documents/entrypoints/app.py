"""The Flask app of the documents service (gunicorn: ``documents.entrypoints.app:create_app()``)."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from chassis.service import ServiceRuntime
from documents.entrypoints.api import RUNTIME_KEY, make_blueprints


def build_app(runtime: ServiceRuntime) -> Flask:
    def configure(app: Flask) -> None:
        app.extensions[RUNTIME_KEY] = runtime

    return create_service_app(
        runtime.settings,
        title="Bildungsportal documents",
        description=(
            "Accessible PDF documents (PDF/UA-1) such as the Eintragungsbestätigung, "
            "their storage, and read receipts of their first opening."
        ),
        blueprints=make_blueprints(),
        readiness_checks=runtime.readiness_checks(),
        token_validator=runtime.token_validator,
        configure=configure,
    )


def create_app() -> Flask:
    from documents.bootstrap import bootstrap

    return bootstrap().create_app()

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from chassis.service import ServiceRuntime


def build_app(runtime: ServiceRuntime) -> Flask:
    from exams.entrypoints.api import blp

    app = create_service_app(
        runtime.settings,
        title="Bildungsportal – exams",
        description="Exam catalogue and sessions (Prüfungstermine), registration and admission.",
        blueprints=[blp],
        readiness_checks=runtime.readiness_checks(),
        token_validator=runtime.token_validator,
    )
    app.extensions["runtime"] = runtime
    return app


def create_app() -> Flask:
    """gunicorn entry point: ``gunicorn 'exams.entrypoints.app:create_app()'``."""
    from exams.bootstrap import bootstrap

    return bootstrap().create_app()

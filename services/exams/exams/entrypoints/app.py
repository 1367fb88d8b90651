"""The Flask app of exams; gunicorn runs ``create_app()``."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from exams.bootstrap import ExamsRuntime, bootstrap
from exams.entrypoints.api import BLUEPRINTS


def build_app(runtime: ExamsRuntime) -> Flask:
    return create_service_app(
        runtime,
        title="Bildungsportal – exams",
        description="Exam catalogue and sessions (Prüfungstermine), registration and admission.",
        blueprints=BLUEPRINTS,
    )


def create_app() -> Flask:
    """gunicorn entry point: ``gunicorn 'exams.entrypoints.app:create_app()'``."""
    return build_app(bootstrap())

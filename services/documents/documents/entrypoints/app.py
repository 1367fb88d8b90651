"""The Flask app of the documents service (gunicorn: ``documents.entrypoints.app:create_app()``)."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from documents.bootstrap import DocumentsRuntime, bootstrap
from documents.entrypoints import letters_api
from documents.entrypoints.api import BLUEPRINTS


def build_app(runtime: DocumentsRuntime) -> Flask:
    return create_service_app(
        runtime,
        title="Bildungsportal documents",
        description=(
            "Accessible PDF documents (PDF/UA-1) such as the Eintragungsbestätigung, "
            "their storage, and read receipts of their first opening."
        ),
        blueprints=[*BLUEPRINTS, *letters_api.BLUEPRINTS],
    )


def create_app() -> Flask:
    """gunicorn entry point: ``gunicorn 'documents.entrypoints.app:create_app()'``."""
    return build_app(bootstrap())

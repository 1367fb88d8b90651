"""The Flask app of training-records; gunicorn runs ``create_app()``."""

from __future__ import annotations

from flask import Flask

from chassis.app import create_service_app
from training_records.bootstrap import TrainingRecordsRuntime, bootstrap
from training_records.entrypoints.api import BLUEPRINTS
from training_records.service_layer import importing

DESCRIPTION = (
    "The chamber's register of training contracts (Ausbildungsverhältnisse): companies, "
    "occupations, trainers, apprentices and contracts with their history, the chamber's data import "
    "and the public Ausbildungsatlas. Registering a contract announces "
    "`training.contract.registered`; the apprentice's account state and when the "
    "Eintragungsbestätigung was opened arrive as events from identity and documents. "
    "Lists are keyset-paged: pass `next_cursor` as `cursor` for the next page."
)


def build_app(runtime: TrainingRecordsRuntime) -> Flask:
    return create_service_app(
        runtime,
        title="Bildungsportal training-records",
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        # The chamber's data import takes whole registers; every other endpoint keeps 2 MiB.
        body_limits={"imports.Imports": importing.MAX_UPLOAD_BYTES + 1024 * 1024},
    )


def create_app() -> Flask:
    """gunicorn entry point: ``gunicorn 'training_records.entrypoints.app:create_app()'``."""
    return build_app(bootstrap())

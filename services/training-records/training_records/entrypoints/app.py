"""The Flask app of training-records; gunicorn runs ``create_app()``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response

from chassis.app import create_service_app
from chassis.problems import problem_response, validation_problem
from chassis.service import ServiceRuntime
from training_records.domain.model import RuleViolation
from training_records.entrypoints.api import BLUEPRINTS
from training_records.service_layer.services import NotAllowed

DESCRIPTION = (
    "The chamber's register of training contracts (Ausbildungsverhältnisse): companies, "
    "occupations, apprentices and contracts. Registering a contract announces "
    "`training.contract.registered`; the apprentice's account state and when the "
    "Eintragungsbestätigung was opened arrive as events from identity and documents."
)


def _nested(errors: dict[tuple[str, ...], str]) -> dict[str, Any]:
    """``{("company", "name"): msg}`` -> ``{"company": {"name": [msg]}}``, marshmallow's shape."""
    messages: dict[str, Any] = {}
    for path, message in errors.items():
        node = messages
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1], []).append(message)
    return messages


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(RuleViolation)
    def _rule_violation(exc: RuleViolation) -> Response:
        return validation_problem(_nested(exc.errors), 422)

    @app.errorhandler(NotAllowed)
    def _not_allowed(exc: NotAllowed) -> Response:
        return problem_response(403, "Forbidden", str(exc), problem_type="forbidden")


def build_app(runtime: ServiceRuntime) -> Flask:
    def configure(app: Flask) -> None:
        app.extensions["runtime"] = runtime
        _install_error_handlers(app)

    return create_service_app(
        runtime.settings,
        title="Bildungsportal training-records",
        description=DESCRIPTION,
        blueprints=BLUEPRINTS,
        readiness_checks=runtime.readiness_checks(),
        token_validator=runtime.token_validator,
        configure=configure,
    )


def create_app() -> Flask:
    from training_records.bootstrap import bootstrap

    return bootstrap().create_app()

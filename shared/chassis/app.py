"""The Flask app factory every service builds on.

It wires request ids and JSON logs, problem+json errors, /healthz, /readyz,
/metrics and an OpenAPI 3 document with a browsable page (flask-smorest,
generated from the marshmallow schemas). Nothing is created at import time.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import swagger_ui_bundle
from flask import Flask, Response, current_app, g, jsonify, request, send_from_directory
from flask_smorest import Api, Blueprint
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from chassis.auth import init_auth
from chassis.context import actor_var, request_id_var, service_var
from chassis.idempotency import init_idempotency
from chassis.logging import configure_logging
from chassis.metrics import HTTP_LATENCY, HTTP_REQUESTS, exposition
from chassis.problems import problem_response, register_problem_handlers, validation_problem

if TYPE_CHECKING:
    from chassis.service import ServiceRuntime

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

ReadinessCheck = Callable[[], None]


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as RFC 9457 problem+json."""

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if messages is not None:
            return validation_problem(messages, error.code or 422)
        return problem_response(error.code or 500, error.name, error.description)


RUNTIME_KEY = "bildungsportal.runtime"

R = TypeVar("R", bound="ServiceRuntime[Any]")


def current_runtime(runtime_class: type[R]) -> R:
    """The runtime the current app was built from, typed as the service's own runtime class."""
    runtime = current_app.extensions[RUNTIME_KEY]
    if not isinstance(runtime, runtime_class):
        raise TypeError(f"the app's runtime is a {type(runtime).__name__}, not a {runtime_class.__name__}")
    return runtime


def create_service_app(
    runtime: ServiceRuntime[Any],
    *,
    title: str,
    description: str,
    blueprints: Iterable[Blueprint],
    configure: Callable[[Flask], Any] | None = None,
    body_limits: Mapping[str, int] | None = None,
) -> Flask:
    """The Flask app of a service's runtime; views reach the runtime with ``current_runtime``."""
    settings = runtime.settings
    readiness_checks = runtime.readiness_checks()
    token_validator = runtime.token_validator
    configure_logging(settings.log_level, settings.log_json)
    app = Flask(settings.service_name)
    if settings.behind_proxy:
        # nginx strips the route prefix and names it in X-Forwarded-Prefix, so
        # url_for() builds public URLs; only trusted when a proxy is in front.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    app.config.update(
        # No key of its own invention: a per-process random one breaks every replica but one.
        # A service that signs anything asks for its key with settings.required_secret_key().
        SECRET_KEY=settings.secret_key or None,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the installed swagger-ui-bundle: no CDN, works offline.
        OPENAPI_SWAGGER_UI_URL="docs-assets/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
        },
    )
    app.extensions["settings"] = settings
    app.extensions[RUNTIME_KEY] = runtime
    if body_limits:
        _install_body_limits(app, body_limits)
    if configure is not None:
        configure(app)

    register_problem_handlers(app)
    api = ProblemApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["smorest_api"] = api
    # flask-smorest registered its own HTTPException handler; ours must win.
    register_problem_handlers(app)

    if token_validator is not None:
        init_auth(app, token_validator)

    _install_request_context(app, settings.service_name)
    _install_operational_routes(app, list(readiness_checks))
    # After the request-id hook: a replayed answer still carries the retry's request id.
    init_idempotency(app, runtime.engine, runtime.idempotency_keys)
    return app


def _install_body_limits(app: Flask, limits: Mapping[str, int]) -> None:
    """Larger bodies than MAX_CONTENT_LENGTH for the named endpoints only (uploads), set before any
    other hook reads the body (the idempotency fingerprint does)."""

    @app.before_request
    def _body_limit() -> None:
        limit = limits.get(request.endpoint or "")
        if limit is not None:
            request.max_content_length = limit


def _install_request_context(app: Flask, service_name: str) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        g.request_id = request_id
        g.request_id_token = request_id_var.set(request_id)
        g.service_token = service_var.set(service_name)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(service_name, request.method, endpoint, str(response.status_code)).inc()
        started = getattr(g, "started", None)
        if started is not None:
            HTTP_LATENCY.labels(service_name, endpoint).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
        token = g.pop("service_token", None)
        if token is not None:
            service_var.reset(token)
        token = g.pop("actor_token", None)
        if token is not None:
            actor_var.reset(token)


def _install_operational_routes(app: Flask, checks: list[ReadinessCheck]) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Response:
        for check in checks:
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                return problem_response(
                    503,
                    "Service Unavailable",
                    f"Not ready: {getattr(check, '__name__', 'check')} failed ({type(exc).__name__}).",
                    problem_type="service-unavailable",
                    headers={"Retry-After": "5"},
                )
        return jsonify(status="ready")

    @app.get("/metrics")
    def metrics() -> Response:
        # Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) the sum over every worker, not
        # the counters of whichever worker happens to answer the scrape.
        return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)

    @app.get("/docs-assets/<path:filename>")
    def docs_assets(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

"""RFC 9457 problem details for every error a client can see (DESIGN §2 rule 9).

Validation errors name the field path as a JSON pointer in ``errors``; a missing
database or broker answers 503 with ``Retry-After``; nothing ever carries a
stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from chassis.domain import DomainError, RuleViolation
from chassis.errors import is_bad_value, is_unavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://bildungsportal.example/problems/"

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise from a use case or view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        problem_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.problem_type = problem_type
        self.headers = dict(headers or {})
        self.extensions = extensions


class ServiceUnavailable(ProblemError):
    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(
            503,
            "Service Unavailable",
            detail,
            problem_type="service-unavailable",
            headers={"Retry-After": str(retry_after)},
        )


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    problem_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem_type if problem_type else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _pointer(path: Iterable[str | int]) -> str:
    escaped = [str(part).replace("~", "~0").replace("/", "~1") for part in path]
    return "#/" + "/".join(escaped) if escaped else "#"


def flatten_validation_messages(messages: Any, path: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    """Turn marshmallow's nested message dict into ``[{pointer, detail}]`` entries."""
    if isinstance(messages, Mapping):
        out: list[dict[str, str]] = []
        for key, value in messages.items():
            # marshmallow files whole-object errors (wrong type, schema rules) under
            # "_schema": they belong to the enclosing object itself.
            child = path if key == "_schema" else (*path, key)
            out.extend(flatten_validation_messages(value, child))
        return out
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [{"pointer": _pointer(path), "detail": m} for m in messages]
        out = []
        for item in messages:
            out.extend(flatten_validation_messages(item, path))
        return out
    return [{"pointer": _pointer(path), "detail": str(messages)}]


def validation_problem(messages: Any, status: int = 422) -> Response:
    # webargs nests messages under the location ("json", "query"); the pointer
    # is relative to the request body, so the location is dropped for JSON.
    if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "form", "files", "headers"}:
        errors = []
        for location, inner in messages.items():
            entries = flatten_validation_messages(inner)
            if location != "json":
                for entry in entries:
                    entry["in"] = location
            errors.extend(entries)
    else:
        errors = flatten_validation_messages(messages)
    return problem_response(
        status,
        "Validation failed" if status == 422 else "Bad Request",
        "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors) or None,
        problem_type="validation-error",
        errors=errors,
    )


def register_problem_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        """The domain's and use cases' errors (chassis.domain), answered the same in every service."""
        if isinstance(exc, RuleViolation):
            return validation_problem(exc.nested(), exc.status)
        return problem_response(exc.status, exc.title, exc.detail, problem_type=exc.problem_type)

    @app.errorhandler(ProblemError)
    def _problem(exc: ProblemError) -> Response:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            problem_type=exc.problem_type,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, Mapping) else None
        if messages is not None:
            return validation_problem(messages, exc.code or 422)
        headers = {}
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        response = problem_response(exc.code or 500, exc.name, exc.description, headers=headers)
        # WWW-Authenticate and similar headers set by the raiser survive.
        original = exc.get_response()
        for key in ("WWW-Authenticate", "Retry-After"):
            if key in original.headers:
                response.headers[key] = original.headers[key]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if is_bad_value(exc):
            # Schemas should have refused it; the database's refusal is the last line.
            log.warning("database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)
            return problem_response(
                422,
                "Validation failed",
                "A value in the request cannot be stored or compared (out of range or with control characters).",
                problem_type="validation-error",
            )
        if is_unavailable(exc):
            log.warning("dependency unavailable: %s", type(exc).__name__)
            return problem_response(
                503,
                "Service Unavailable",
                "A backing service (database or message broker) is not reachable. Please retry.",
                problem_type="service-unavailable",
                headers={"Retry-After": "5"},
            )
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "An unexpected error occurred.")

"""No generated request to any OpenAPI operation gets a 5xx (DESIGN §5, robustness).

schemathesis derives requests from each service's own OpenAPI document (valid and
invalid bodies, queries and path parameters) and sends them to the real app on a
fresh PostgreSQL database with the demo data, with a token that can see most,
without any token, and with malformed and hostile tokens (chassis.testing.hostile_tokens),
which must get a 401 whose headers carry nothing of the token, also over a real socket.
"""

from __future__ import annotations

import dataclasses
import http.client
import importlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from werkzeug.serving import make_server

from chassis.config import ServiceSettings
from chassis.testing.hostile_tokens import b64url, malformed_authorization_headers
from chassis.testing.tokens import TestIssuer
from gateway.routes import backend_services

# The five backend services and their packages, from the one route table.
SERVICES = {name: route.package for name, route in backend_services().items()}
# Derandomised: the same requests every run, so a failure is reproducible and CI
# does not flicker; raise the count locally to search wider.
EXAMPLES_PER_OPERATION = int(os.environ.get("ROBUSTNESS_EXAMPLES", "60"))
# Each hostile token goes to every operation with this many generated requests.
HOSTILE_EXAMPLES_PER_OPERATION = int(os.environ.get("ROBUSTNESS_HOSTILE_EXAMPLES", "2"))
SAFE_CHALLENGES = ('Bearer error="invalid_token"', 'Bearer realm="bildungsportal"')


@pytest.fixture(params=sorted(SERVICES))
def service_app(
    request: pytest.FixtureRequest, make_database: Callable[[str], str], tmp_path: Path
) -> Iterator[tuple[Any, TestIssuer]]:
    name = request.param
    bootstrap = importlib.import_module(f"{SERVICES[name]}.bootstrap")
    issuer = TestIssuer()
    settings_ = dataclasses.replace(
        # BP_MODE=embedded: secrets are generated under tmp_path (chassis.config.require_secret).
        ServiceSettings.from_env(name, env={"BP_DATA_DIR": str(tmp_path), "BP_MODE": "embedded"}),
        database_url=make_database("fuzz"),
        issuer=issuer.issuer,
        log_json=False,
    )
    runtime = bootstrap.bootstrap(settings_)
    runtime.token_validator = issuer.validator()
    runtime.migrate()
    bootstrap.seed_demo(runtime)
    app_module = importlib.import_module(f"{SERVICES[name]}.entrypoints.app")
    yield app_module.build_app(runtime), issuer
    runtime.engine.dispose()


def test_no_generated_request_gets_a_server_error(service_app: tuple[Any, TestIssuer]) -> None:
    app, issuer = service_app
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    privileged = issuer.header(
        "00000000-0000-4000-8000-000000000001",
        roles=["chamber_admin", "chamber_clerk"],
        company_roles={"4711001": ["admin"]},
        apprentice_number="20260001",
    )
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the service documents no operation"
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            for headers in (privileged, {}):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.as_curl_command()}\n{response.text[:300]}")

        exercise()
    assert not failures, "\n\n".join(failures[:5])


def _unsafe_answer(status: int, headers: Mapping[str, Any], body: bytes) -> str | None:
    """Why an answer to a request with a hostile token is wrong, or None if it is fine."""
    if status >= 500:
        return f"{status}: {body[:300]!r}"
    # schemathesis hands headers as {lower-case name: [values]}, http.client as a message.
    values = {name.lower(): value if isinstance(value, list) else [value] for name, value in headers.items()}
    if status == 401 and values.get("www-authenticate") not in [[c] for c in SAFE_CHALLENGES]:
        return f"401 with WWW-Authenticate {values.get('www-authenticate')!r}"
    if status == 401 and values.get("content-type") != ["application/problem+json"]:
        return f"401 as {values.get('content-type')!r}"
    return None


def test_malformed_tokens_get_a_safe_answer_at_every_operation(service_app: tuple[Any, TestIssuer]) -> None:
    app, issuer = service_app
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    hostile = malformed_authorization_headers(issuer)
    failures: list[str] = []
    refused = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @settings(
            max_examples=HOSTILE_EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            nonlocal refused
            for name, authorization in hostile:
                response = case.call(headers={"Authorization": authorization})
                refused += response.status_code == 401
                problem = _unsafe_answer(response.status_code, response.headers, response.content)
                if problem:
                    failures.append(f"{name}: {problem}\n{case.as_curl_command()[:300]}")

        exercise()
    assert not failures, "\n\n".join(failures[:5])
    assert refused, "no operation refused a hostile token: is authentication wired at all?"


def test_a_hostile_token_over_a_real_socket_gets_an_answer(service_app: tuple[Any, TestIssuer]) -> None:
    """Served as the embedded mode serves it; U+2028 in ``alg`` once left the client hanging."""
    app, _issuer = service_app
    spec = app.test_client().get("/openapi.json").get_json()
    secured = [
        path
        for path, item in spec["paths"].items()
        if "{" not in path and "get" in item and item["get"].get("security")
    ]
    assert secured, "the service documents no secured GET operation without path parameters"
    tokens = [
        f"{b64url(json.dumps({'alg': alg}, ensure_ascii=False).encode())}.e30.c2ln"
        for alg in ("RS\u2028256", "RS256\u20ac", "RS256\r\nX-Injected: 1")
    ]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    failures: list[str] = []
    try:
        for path in secured:
            for token in tokens:
                conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
                try:
                    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                    answer = conn.getresponse()
                    problem = _unsafe_answer(answer.status, answer.headers, answer.read())
                    if answer.status != 401 or problem:
                        failures.append(f"GET {path}: {answer.status} {problem or ''}")
                except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
                    failures.append(f"GET {path}: no answer ({exc!r})")
                finally:
                    conn.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not failures, "\n".join(failures[:10])

"""nginx really running with the generated config in front of stand-in services."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from gateway import nginx, processes
from gateway.routes import ROUTES, security_headers


@dataclass
class Edge:
    base_url: str
    process: processes.ManagedProcess

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base_url + path, timeout=5, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.base_url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def edge(
    serve_wsgi: Callable[..., Any], echo_app: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Edge]:
    ports = {route.service: serve_wsgi(echo_app(route.service)).port for route in ROUTES}
    # notifications points at a port where nothing listens: the edge must answer 502 problem+json.
    ports["notifications"] = processes.free_port()
    listen = processes.free_port()
    runtime_dir = tmp_path_factory.mktemp("nginx")
    options = nginx.local_options(str(runtime_dir), listen_port=listen, ports=ports)
    process = processes.start_nginx(nginx.render(options), runtime_dir, log_dir=runtime_dir / "logs")
    try:
        processes.wait_until(
            "nginx to listen", lambda: processes.port_open("127.0.0.1", listen), timeout=15, watch=[process]
        )
        yield Edge(f"http://127.0.0.1:{listen}", process)
    finally:
        process.stop()


@pytest.mark.parametrize(
    ("path", "service", "prefix", "upstream_path"),
    [
        ("/auth/jwks", "identity", "/auth", "/jwks"),
        ("/auth/.well-known/openid-configuration", "identity", "/auth", "/.well-known/openid-configuration"),
        ("/api/identity/users/me", "identity", "/api/identity", "/users/me"),
        ("/api/training/occupations", "training-records", "/api/training", "/occupations"),
        ("/api/training", "training-records", "/api/training", "/"),
        ("/api/exams/sessions", "exams", "/api/exams", "/sessions"),
        ("/api/documents/documents/1/pdf", "documents", "/api/documents", "/documents/1/pdf"),
        ("/", "web", None, "/"),
        ("/ausbildungsverhaeltnisse", "web", None, "/ausbildungsverhaeltnisse"),
        # A path that only shares a prefix string with a route belongs to the web UI.
        ("/api/trainingfoo", "web", None, "/api/trainingfoo"),
    ],
)
def test_routes_by_prefix_and_strips_it(
    edge: Edge, path: str, service: str, prefix: str | None, upstream_path: str
) -> None:
    response = edge.get(path + "?page=2")
    assert response.status_code == 200
    seen = response.json()
    assert seen["service"] == service
    assert seen["path"] == upstream_path
    assert seen["query"] == "page=2"
    assert seen["headers"].get("x-forwarded-prefix") == prefix
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["x-forwarded-host"] == edge.base_url.removeprefix("http://")
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_client_forwarding_headers_do_not_reach_the_apps(edge: Edge) -> None:
    seen = edge.get(
        "/start",
        headers={"X-Forwarded-Prefix": "/evil", "X-Forwarded-Port": "1", "X-Forwarded-Proto": "https"},
    ).json()
    assert "x-forwarded-prefix" not in seen["headers"]
    assert "x-forwarded-port" not in seen["headers"]
    assert seen["headers"]["x-forwarded-proto"] == "http"


def test_request_id_is_generated_when_missing(edge: Edge) -> None:
    response = edge.get("/api/exams/x")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.json()["headers"]["x-request-id"] == request_id
    assert response.raw.headers.getlist("X-Request-ID") == [request_id]


def test_valid_client_request_id_is_kept(edge: Edge) -> None:
    response = edge.get("/api/exams/x", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.headers["X-Request-ID"] == "trace-42.a:b"
    assert response.json()["headers"]["x-request-id"] == "trace-42.a:b"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "<script>", "a;b"])
def test_malformed_client_request_id_is_replaced(edge: Edge, bad: str) -> None:
    response = edge.get("/api/exams/x", headers={"X-Request-ID": bad})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert response.json()["headers"]["x-request-id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("path", ["/", "/auth/login", "/api/training/occupations"])
def test_security_headers_replace_the_apps_own(edge: Edge, path: str) -> None:
    response = edge.get(path)
    for name, value in security_headers().items():
        assert response.raw.headers.getlist(name) == [value], name
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_only_the_api_docs_get_a_relaxed_csp(edge: Edge) -> None:
    docs = edge.get("/api/training/docs")
    assert docs.json()["path"] == "/docs"
    assert (
        docs.headers["Content-Security-Policy"]
        == security_headers(relaxed_for_docs=True)["Content-Security-Policy"]
    )
    assert "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in edge.get("/docs").headers["Content-Security-Policy"]


def test_an_apps_own_csp_is_kept_instead_of_the_edges(edge: Edge) -> None:
    response = edge.get("/seite", params={"csp": "default-src 'none'"})
    assert response.raw.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_body_over_the_route_limit_is_refused_with_413(edge: Edge) -> None:
    three_mib = b"x" * (3 * 1024 * 1024)
    response = edge.post("/api/training/contracts", data=three_mib)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert response.headers["X-Frame-Options"] == "DENY"
    # Documents takes uploads: the same body passes there, buffered by nginx.
    accepted = edge.post("/api/documents/uploads", data=three_mib)
    assert accepted.status_code == 200
    assert accepted.json()["body_length"] == len(three_mib)
    # The chamber's data import takes whole registers, on its upload path only, with its prefix.
    upload = edge.post("/api/training/imports?x=1", data=three_mib)
    assert upload.status_code == 200
    assert (upload.json()["path"], upload.json()["body_length"]) == ("/imports", len(three_mib))
    assert upload.json()["headers"].get("x-forwarded-prefix") == "/api/training"
    assert edge.post("/api/training/imports/x", data=three_mib).status_code == 413
    form = edge.post("/datenuebermittlung", data=three_mib)  # the UI's upload form
    assert (form.status_code, form.json()["path"], form.json()["body_length"]) == (
        200,
        "/datenuebermittlung",
        len(three_mib),
    )
    assert edge.post("/datenuebermittlung/1", data=three_mib).status_code == 413


def test_unreachable_service_answers_502_problem(edge: Edge) -> None:
    response = edge.get("/api/notifications/notices")
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Bad Gateway"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_login_posts_are_rate_limited_but_page_views_are_not(edge: Edge) -> None:
    views = [edge.get("/auth/login").status_code for _ in range(20)]
    assert views == [200] * 20
    statuses = [
        edge.post("/auth/login", data={"username": "u", "password": "p"}).status_code for _ in range(12)
    ]
    # burst 5 at 10 per minute: the first few pass, the rest are refused.
    assert statuses[:5] == [200] * 5
    assert statuses.count(429) >= 5
    refused = edge.post("/auth/password/reset", data={"email": "a@example.org"})
    assert refused.status_code in (200, 429)  # its own path, the same per-client zone
    limited = edge.post("/auth/activate", data={"code": "x"})
    assert limited.status_code == 429
    # A person posted a form: a German page, with Retry-After (gateway.ratelimit's numbers).
    assert limited.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Zu viele Versuche" in limited.text and '<html lang="de">' in limited.text
    assert limited.headers["Retry-After"] == "6"
    assert limited.headers["X-Content-Type-Options"] == "nosniff"
    # The same forms under identity's other prefix share the limit; there the answer is problem+json.
    api = edge.post("/api/identity/login", data={"username": "u", "password": "p"})
    assert api.status_code == 429
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == 429 and api.headers["Retry-After"] == "6"
    # The API itself is not limited per client address (the BFF is one client for all users).
    assert [edge.post("/api/exams/registrations").status_code for _ in range(30)] == [200] * 30


def test_access_log_is_json_with_the_request_id(edge: Edge) -> None:
    import json
    import time

    edge.get("/api/exams/logged", headers={"X-Request-ID": "log-check-1"})
    log_path = edge.process.log_path
    assert log_path is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        matching = [entry for entry in entries if entry["request_id"] == "log-check-1"]
        if matching:
            break
        time.sleep(0.1)
    assert matching[0]["uri"] == "/api/exams/logged"
    assert matching[0]["status"] == 200


def test_reset_tokens_stay_out_of_the_access_log(edge: Edge) -> None:
    import json
    import time

    token = "Einmal-Token_abc123"
    edge.get(f"/auth/password/reset/{token}", headers={"X-Request-ID": "log-check-reset"})
    log_path = edge.process.log_path
    assert log_path is not None
    deadline = time.monotonic() + 5
    matching: list[dict] = []
    while time.monotonic() < deadline and not matching:
        entries = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        matching = [entry for entry in entries if entry["request_id"] == "log-check-reset"]
        time.sleep(0.1)
    assert matching[0]["uri"] == "/auth/password/reset/[redacted]"
    assert token not in log_path.read_text()


def test_operational_endpoints_are_not_public(edge: Edge) -> None:
    for prefix in ("/auth", "/api/identity", "/api/training", "/api/documents"):
        for path in ("/metrics", "/readyz"):
            hidden = edge.get(prefix + path)
            assert hidden.status_code == 404, prefix + path
            assert hidden.headers["Content-Type"] == "application/problem+json"
    # Liveness stays reachable through the edge (load balancers probe it).
    assert edge.get("/api/training/healthz").status_code == 200

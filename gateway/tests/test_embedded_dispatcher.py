"""The embedded dispatcher mounts apps where nginx routes them, from the same route table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.test import Client

from gateway import embedded
from gateway.routes import ROUTES, Route, security_headers


@pytest.fixture
def client(echo_app: Callable[[str], Any]) -> Client:
    apps = {route.service: echo_app(route.service) for route in ROUTES}
    return Client(embedded.build_dispatcher(apps))


@pytest.mark.parametrize(
    ("path", "service", "script_name", "path_info"),
    [
        ("/auth/jwks", "identity", "/auth", "/jwks"),
        ("/api/identity/users/me", "identity", "/api/identity", "/users/me"),
        ("/api/training/occupations", "training-records", "/api/training", "/occupations"),
        ("/api/exams/sessions", "exams", "/api/exams", "/sessions"),
        ("/api/documents/documents/1/pdf", "documents", "/api/documents", "/documents/1/pdf"),
        ("/api/notifications/notices", "notifications", "/api/notifications", "/notices"),
        ("/", "web", "", "/"),
        ("/dokumente", "web", "", "/dokumente"),
        ("/api/trainingfoo", "web", "", "/api/trainingfoo"),
    ],
)
def test_mounts_each_service_under_its_prefix(
    client: Client, path: str, service: str, script_name: str, path_info: str
) -> None:
    response = client.get(path, query_string={"page": "2"})
    assert response.status_code == 200
    seen = response.get_json()
    assert seen["service"] == service
    assert seen["script_name"] == script_name
    assert seen["path"] == path_info
    assert seen["query"] == "page=2"


def test_every_route_of_the_table_is_mounted(client: Client) -> None:
    for route in ROUTES:
        seen = client.get(route.prefix.rstrip("/") + "/probe").get_json()
        assert seen["service"] == route.service, route.prefix


def test_adds_the_edge_security_headers_once(client: Client) -> None:
    response = client.get("/api/training/occupations")
    for name, value in security_headers().items():
        assert response.headers.getlist(name) == [value], name


def test_an_apps_own_csp_is_kept_instead_of_the_edges(client: Client) -> None:
    response = client.get("/seite", query_string={"csp": "default-src 'none'"})
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]


def test_api_docs_get_the_relaxed_csp_only(client: Client) -> None:
    docs = client.get("/api/exams/docs")
    assert "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/docs").headers["Content-Security-Policy"]


def test_flask_builds_urls_with_the_mount_prefix() -> None:
    """What ProxyFix gives a service behind nginx, the dispatcher gives it in one process."""
    service = Flask("training-records")

    @service.get("/contracts/<int:number>")
    def contract(number: int) -> dict[str, str]:
        return {
            "self": url_for("contract", number=number),
            "external": url_for("contract", number=number, _external=True),
        }

    apps: dict[str, Any] = {route.service: service for route in ROUTES}
    response = Client(embedded.build_dispatcher(apps)).get("/api/training/contracts/7")
    assert response.get_json() == {
        "self": "/api/training/contracts/7",
        "external": "http://localhost/api/training/contracts/7",
    }


def test_a_route_without_an_app_fails_clearly(echo_app: Callable[[str], Any]) -> None:
    apps = {route.service: echo_app(route.service) for route in ROUTES if route.service != "exams"}
    with pytest.raises(embedded.MissingServiceError, match="exams"):
        embedded.build_dispatcher(apps)


def test_missing_service_packages_are_named_together() -> None:
    routes = [
        Route("/api/ghost", "ghost", "bp_no_such_package_a", 9001),
        Route("/api/phantom", "phantom", "bp_no_such_package_b", 9002),
    ]
    with pytest.raises(embedded.MissingServiceError) as failure:
        embedded.load_bootstraps(routes)
    assert "ghost" in str(failure.value)
    assert "phantom" in str(failure.value)
    assert "bootstrap.sh" in str(failure.value)


def test_environment_defaults_follow_the_port(tmp_path: Any) -> None:
    env = {"PORT": "9090", "BP_DATA_DIR": str(tmp_path / "var")}
    port = embedded.configure_environment(env)
    assert port == 9090
    assert env["BP_PUBLIC_URL"] == "http://127.0.0.1:9090"
    assert env["BP_API_BASE_URL"] == "http://127.0.0.1:9090"
    assert env["BP_BUS_URL"] == "memory://"
    assert env["BP_MAIL_SINK_DIR"] == str(tmp_path / "var" / "mails")
    assert env["NOTIFICATIONS_SMTP_HOST"] == "127.0.0.1"


def test_environment_keeps_what_is_set(tmp_path: Any) -> None:
    env = {"BP_DATA_DIR": str(tmp_path), "BP_PUBLIC_URL": "https://portal.example", "BP_BUS_URL": "amqp://x"}
    assert embedded.configure_environment(env) == 8080
    assert env["BP_PUBLIC_URL"] == "https://portal.example"
    assert env["BP_BUS_URL"] == "amqp://x"

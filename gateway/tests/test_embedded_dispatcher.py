"""The embedded dispatcher mounts apps where nginx routes them, from the same route table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.test import Client

from gateway import embedded
from gateway.routes import INTERNAL_PATHS, ROUTES, Route, security_headers


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


# -- operational endpoints stay internal, as behind nginx -------------------------------------------


@pytest.mark.parametrize("prefix", sorted({route.prefix for route in ROUTES if route.strips_prefix}))
@pytest.mark.parametrize("path", INTERNAL_PATHS)
@pytest.mark.parametrize(
    "spelling", ["{prefix}{path}", "{prefix}{path}/", "{prefix}/{path}", "{prefix}{path}?x=1"]
)
def test_the_edge_hides_the_operational_endpoints(
    client: Client, prefix: str, path: str, spelling: str
) -> None:
    url = spelling.format(prefix=prefix, path=path)
    response = client.get(url)
    assert response.status_code == 404, url
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No such resource.",
    }
    # The edge's security headers come with it, as with every answer.
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    [
        "/api/training/healthz",
        "/api/training/metrics-report",
        "/api/training/contracts/metrics",
        "/auth/jwks",
    ],
)
def test_everything_else_still_reaches_the_services(client: Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_the_internal_dispatcher_serves_them(echo_app: Callable[[str], Any]) -> None:
    apps = {route.service: echo_app(route.service) for route in ROUTES}
    internal = Client(embedded.build_dispatcher(apps, internal=True))
    for route in ROUTES:
        if route.strips_prefix:
            for path in INTERNAL_PATHS:
                seen = internal.get(route.prefix + path).get_json()
                assert (seen["service"], seen["path"]) == (route.service, path)


# -- mail: a configured SMTP server, or the local sink on a port of one's choice ------------------------


def test_a_configured_smtp_server_gets_the_mail_and_no_sink_runs(tmp_path: Any) -> None:
    env = {
        "BP_DATA_DIR": str(tmp_path),
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": "2525",
    }
    embedded.configure_environment(env)
    assert (env["NOTIFICATIONS_SMTP_HOST"], env["NOTIFICATIONS_SMTP_PORT"]) == ("127.0.0.1", "2525")
    assert embedded.mail_sink_port(env) is None
    # No sink, so no development mailbox either.
    assert "BP_MAIL_SINK_DIR" not in env
    embedded.configure_environment(env)  # the second call (running()) decides the same
    assert embedded.mail_sink_port(env) is None


@pytest.mark.parametrize(
    ("given", "sink_port"),
    [
        ({}, 8025),
        ({"BP_MAIL_SINK_PORT": "0"}, 0),
        ({"BP_MAIL_SINK_PORT": "2626"}, 2626),
        ({"NOTIFICATIONS_SMTP_PORT": "2727"}, 2727),  # only a port: where the local sink listens
    ],
)
def test_without_a_configured_server_the_sink_port_is_configurable(
    tmp_path: Any, given: dict[str, str], sink_port: int
) -> None:
    env = {"BP_DATA_DIR": str(tmp_path), **given}
    embedded.configure_environment(env)
    assert embedded.mail_sink_port(env) == sink_port
    assert env["NOTIFICATIONS_SMTP_HOST"] == "127.0.0.1"
    assert env["NOTIFICATIONS_SMTP_PORT"] == str(sink_port)
    assert env["BP_MAIL_SINK_DIR"] == str(tmp_path / "mails")
    embedded.configure_environment(env)
    assert embedded.mail_sink_port(env) == sink_port


@pytest.mark.parametrize("value", ["acht", "-1", "70000", "80 25"])
def test_a_port_setting_that_is_no_port_is_named(value: str) -> None:
    with pytest.raises(embedded.PortUnavailable, match="BP_MAIL_SINK_PORT"):
        embedded.mail_sink_port({"BP_MAIL_SINK_PORT": value})


def test_a_taken_port_is_one_line_in_german_and_english() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(embedded.PortUnavailable) as failure:
            embedded.start_mail_sink(Path("/nonexistent-never-created"), "127.0.0.1", port)
    message = str(failure.value)
    assert "\n" not in message
    assert f"Port {port} (Mail-Sink/mail sink) auf 127.0.0.1 ist belegt" in message
    assert "is in use" in message and "BP_MAIL_SINK_PORT=0" in message


def test_the_sink_takes_a_free_port_when_asked(tmp_path: Any) -> None:
    import smtplib
    from email.message import EmailMessage

    first = embedded.start_mail_sink(tmp_path / "a", "127.0.0.1", 0)
    second = embedded.start_mail_sink(tmp_path / "b", "127.0.0.1", 0)
    try:
        assert first.port != second.port and 0 not in (first.port, second.port)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@b.example", "c@d.example", "Hallo"
        message.set_content("Zwei Portale nebeneinander.")
        with smtplib.SMTP("127.0.0.1", second.port, timeout=10) as smtp:
            smtp.send_message(message)
        assert len(list((tmp_path / "b").glob("*.eml"))) == 1
        assert list((tmp_path / "a").glob("*.eml")) == []
    finally:
        first.stop()
        second.stop()

"""docker-compose.yml checked against the route table and the services' own files.

No Docker engine runs here, so the check is static: names, ports, environment,
Dockerfiles, console scripts and the committed nginx config.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from chassis.config import env_prefix
from gateway import nginx
from gateway.routes import ROUTES, WEB, Route, backend_services, database_name

REPO = Path(__file__).resolve().parents[2]
SERVICE_ROUTES = list(backend_services().values())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def dockerfile_of(route: Route) -> Path:
    return REPO / ("gateway/Dockerfile" if route is WEB else f"services/{route.service}/Dockerfile")


def dockerfile_cmd(path: Path) -> list[str]:
    commands = [line for line in path.read_text().splitlines() if line.startswith("CMD ")]
    assert len(commands) == 1, f"{path}: exactly one CMD expected"
    return json.loads(commands[0][4:])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping"
    return {key: str(value) for key, value in env.items()}


@pytest.mark.parametrize("route", list({r.service: r for r in ROUTES}.values()), ids=lambda r: r.service)
def test_every_routed_service_is_built_from_its_dockerfile(compose: dict[str, Any], route: Route) -> None:
    service = compose["services"][route.service]
    build = service["build"]
    assert build["context"] == "."
    assert (REPO / build["dockerfile"]) == dockerfile_of(route)
    assert dockerfile_of(route).exists()
    assert str(route.port) in [str(port) for port in service["expose"]]


@pytest.mark.parametrize("route", list({r.service: r for r in ROUTES}.values()), ids=lambda r: r.service)
def test_dockerfile_exposes_the_port_and_runs_gunicorn_with_create_app(route: Route) -> None:
    path = dockerfile_of(route)
    text = path.read_text()
    assert re.search(rf"^EXPOSE {route.port}$", text, re.MULTILINE), f"{path} must EXPOSE {route.port}"
    cmd = dockerfile_cmd(path)
    assert cmd[0] == "gunicorn"
    assert cmd[-1] == f"{route.package}.entrypoints.app:create_app()" or (
        route is WEB and cmd[-1] == "gateway.web.app:create_app()"
    )
    assert cmd[cmd.index("--bind") + 1] == f"0.0.0.0:{route.port}"
    assert re.search(r"^USER (?!root|0$)\S+$", text, re.MULTILINE), f"{path} must not run as root"


@pytest.mark.parametrize("route", SERVICE_ROUTES, ids=lambda r: r.service)
def test_each_service_has_its_own_database(compose: dict[str, Any], route: Route) -> None:
    variable = f"{env_prefix(route.service)}_DATABASE_URL"
    for name in (route.service, f"{route.service}-migrate", f"{route.service}-worker"):
        env = environment(compose["services"][name])
        url = urlsplit(env[variable])
        assert url.scheme == "postgresql"
        assert url.hostname == "postgres"
        assert url.path == "/" + database_name(route.service)
        # No other service's database URL leaks into this container.
        others = [key for key in env if key.endswith("_DATABASE_URL") and key != variable]
        assert others == [], name


@pytest.mark.parametrize("route", SERVICE_ROUTES, ids=lambda r: r.service)
def test_each_service_is_on_the_broker_behind_the_proxy(compose: dict[str, Any], route: Route) -> None:
    for name in (route.service, f"{route.service}-worker"):
        env = environment(compose["services"][name])
        assert urlsplit(env["BP_BUS_URL"]).scheme == "amqp"
        assert urlsplit(env["BP_BUS_URL"]).hostname == "rabbitmq"
        assert env["BP_BEHIND_PROXY"] == "1"
        assert urlsplit(env["BP_JWKS_URL"]).netloc == f"identity:{backend_services()['identity'].port}"


@pytest.mark.parametrize("route", SERVICE_ROUTES, ids=lambda r: r.service)
def test_each_service_has_migrations_and_a_worker(compose: dict[str, Any], route: Route) -> None:
    services = compose["services"]
    migrate = " ".join(services[f"{route.service}-migrate"]["command"])
    assert migrate in (
        f"bp-{route.service} migrate",
        f"sh -c bp-{route.service} migrate && bp-{route.service} seed-demo",
    )
    assert services[f"{route.service}-worker"]["command"] == [f"bp-{route.service}", "worker"]
    for name in (route.service, f"{route.service}-worker"):
        dependency = services[name]["depends_on"][f"{route.service}-migrate"]
        assert dependency["condition"] == "service_completed_successfully"
    pyproject = tomllib.loads((REPO / f"services/{route.service}/pyproject.toml").read_text())
    assert f"bp-{route.service}" in pyproject["project"]["scripts"]


def test_identity_registers_the_web_client_before_the_portal_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "bp-identity seed-demo" in " ".join(services["identity-migrate"]["command"])
    assert services["web"]["depends_on"]["identity"]["condition"] == "service_healthy"


def test_the_web_ui_reaches_identity_inside_the_network(compose: dict[str, Any]) -> None:
    # The public issuer (localhost:8080) is the browser's; inside its container the
    # web UI must reach identity's back-channel endpoints by the compose host name.
    env = environment(compose["services"]["web"])
    identity_port = next(route.port for route in ROUTES if route.service == "identity")
    assert env["BP_OIDC_INTERNAL_URL"] == f"http://identity:{identity_port}"


def test_notifications_mailer_sends_to_the_mail_sink(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["notifications-mailer"]["command"] == ["bp-notifications", "mailer"]
    assert "mailpit" in services and services["mailpit"]["image"].startswith("axllent/mailpit")
    for name in ("notifications", "notifications-worker", "notifications-mailer"):
        env = environment(services[name])
        assert env["NOTIFICATIONS_SMTP_HOST"] == "mailpit"
        assert env["NOTIFICATIONS_SMTP_PORT"] == "1025"


def test_postgres_creates_one_database_per_service(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    mounts = [volume.split(":") for volume in postgres["volumes"]]
    init = [
        REPO / source for source, target, *_ in mounts if target.startswith("/docker-entrypoint-initdb.d/")
    ]
    assert len(init) == 1
    sql = init[0].read_text()
    for service in {route.service for route in ROUTES}:
        assert f"CREATE DATABASE {database_name(service)} " in sql, service


def test_rabbitmq_is_version_4_with_management(compose: dict[str, Any]) -> None:
    assert compose["services"]["rabbitmq"]["image"].startswith("rabbitmq:4")
    assert "management" in compose["services"]["rabbitmq"]["image"]


def test_nginx_serves_the_committed_config_on_the_edge_port(compose: dict[str, Any]) -> None:
    service = compose["services"]["nginx"]
    assert "./gateway/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in service["volumes"]
    assert "8080:8080" in service["ports"]
    for route in ROUTES:
        assert route.service in service["depends_on"]


def test_committed_nginx_config_is_the_generated_one() -> None:
    committed = (REPO / "gateway/nginx/nginx.conf").read_text()
    assert committed == nginx.render(nginx.compose_options()), (
        "regenerate: python -P -m gateway.nginx --mode compose > gateway/nginx/nginx.conf"
    )


def test_compose_nginx_config_points_at_the_compose_services() -> None:
    committed = (REPO / "gateway/nginx/nginx.conf").read_text()
    for route in ROUTES:
        assert f"server {route.service}:{route.port};" in committed
    assert "127.0.0.1" not in committed


def test_only_identity_and_the_web_ui_know_the_client_secret(compose: dict[str, Any]) -> None:
    holders = {
        name
        for name, service in compose["services"].items()
        if "BP_WEB_CLIENT_SECRET" in environment(service)
    }
    assert holders == {"identity", "identity-migrate", "web"}


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    # A deployment that forgot a secret must fail to start, not run with one from the repo.
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for name in ("BP_WEB_CLIENT_SECRET", "WEB_SECRET_KEY", "DOCUMENTS_SECRET_KEY"):
        uses = re.findall(r"\$\{" + name + r"(:?[-?])", text)
        assert uses and set(uses) == {":?"}, name
    services = compose["services"]
    for name in ("documents", "documents-worker"):
        assert "DOCUMENTS_SECRET_KEY" in environment(services[name])

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
from gateway.distributed import REQUIRED_SECRETS
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


# -- the images install from uv.lock ------------------------------------------------------------

IMAGE_VENV = "/opt/venv"
# Never in an image: the extras' packages (the SMTP sink, the test fixtures) and the dev group's.
NOT_IN_IMAGES = {
    "aiosmtpd",
    "pytest",
    "playwright",
    "testcontainers",
    "hypothesis",
    "schemathesis",
    "ruff",
    "mypy",
}


def dockerfile_instructions(path: Path) -> list[str]:
    """The instructions, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", path.read_text())
    return [
        " ".join(line.split()) for line in joined.splitlines() if line.strip() and not line.startswith("#")
    ]


def project_of(route: Route) -> dict[str, Any]:
    return tomllib.loads((dockerfile_of(route).parent / "pyproject.toml").read_text())["project"]


def locked_closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """What `uv sync --no-dev --package name` (with ``extras``) installs from uv.lock, on any platform."""
    packages = {p["name"]: p for p in tomllib.loads((REPO / "uv.lock").read_text())["package"]}
    seen: set[tuple[str, str | None]] = set()
    todo: list[tuple[str, str | None]] = [(name, None), *((name, extra) for extra in extras)]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        current, extra = node
        package = packages[current]
        edges = package.get("dependencies", []) if extra is None else package["optional-dependencies"][extra]
        for edge in edges:
            todo += [(edge["name"], None), *((edge["name"], inner) for inner in edge.get("extra", []))]
    return {current for current, _ in seen}


@pytest.mark.parametrize("route", list({r.service: r for r in ROUTES}.values()), ids=lambda r: r.service)
def test_dockerfile_installs_its_project_from_the_lock_without_extras_or_dev_tools(route: Route) -> None:
    path = dockerfile_of(route)
    instructions = dockerfile_instructions(path)
    assert "COPY pyproject.toml uv.lock ./" in instructions, f"{path}: build from the workspace's lock"
    syncs = [line for line in instructions if line.startswith("RUN ") and " uv sync " in f"{line} "]
    assert len(syncs) == 1, f"{path}: exactly one `uv sync`"
    args = syncs[0].split()
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(args), (
        f"{path}: uv sync --frozen --no-dev --no-editable"
    )
    assert args[args.index("--package") + 1] == project_of(route)["name"]
    assert not {"--all-extras", "--extra", "--all-packages", "--group", "--dev", "--upgrade"} & set(args), (
        syncs[0]
    )
    # pip installs only uv: the version uv.lock pins, checked against the lock's hashes.
    assert "COPY scripts/uv_requirement.py scripts/" in instructions
    for line in instructions:
        if "pip install" in line:
            assert re.fullmatch(
                r"RUN python scripts/uv_requirement.py > (\S+) && pip install [-\w ]*--require-hashes -r \1",
                line,
            ), f"{path}: {line}"
    assert not re.search(r"==\s*\d", path.read_text()), f"{path}: versions live in pyproject.toml and uv.lock"
    assert f"ENV UV_PROJECT_ENVIRONMENT={IMAGE_VENV}" in " ".join(instructions)
    # The image keeps the venv only, and runs its console scripts (gunicorn, bp-*).
    final = instructions[max(i for i, line in enumerate(instructions) if line.startswith("FROM ")) :]
    assert f"COPY --from=build {IMAGE_VENV} {IMAGE_VENV}" in final
    assert any(line.startswith("ENV ") and f"PATH={IMAGE_VENV}/bin:" in line for line in final)


@pytest.mark.parametrize("route", list({r.service: r for r in ROUTES}.values()), ids=lambda r: r.service)
def test_image_holds_its_runtime_and_nothing_of_the_extras_or_the_dev_group(route: Route) -> None:
    name = project_of(route)["name"]
    installed = locked_closure(name)
    assert dockerfile_cmd(dockerfile_of(route))[0] in installed
    assert not installed & NOT_IN_IMAGES, f"{name}'s image would install {sorted(installed & NOT_IN_IMAGES)}"
    workspace = {package for package in installed if package.startswith("bildungsportal-")}
    assert workspace == {name, "bildungsportal-chassis"}, f"{name}'s image installs {sorted(workspace)}"


def test_the_embedded_extras_bring_the_smtp_sink_and_every_service() -> None:
    # The counter-check of the one above: the extras the images leave out are real.
    assert "aiosmtpd" in locked_closure("bildungsportal-notifications", ("embedded",))
    embedded = locked_closure("bildungsportal-gateway", ("embedded",))
    assert {f"bildungsportal-{route.service}" for route in SERVICE_ROUTES} | {"aiosmtpd"} <= embedded


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


def test_notifications_worker_sends_to_the_mail_sink(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # The mail sender is one of the workers notifications declares; no service has a process of its own kind.
    assert "notifications-mailer" not in services
    assert services["notifications-worker"]["command"] == ["bp-notifications", "worker"]
    assert "mailpit" in services and services["mailpit"]["image"].startswith("axllent/mailpit")
    for name in ("notifications", "notifications-worker"):
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


def test_only_identity_knows_the_code_hash_key(compose: dict[str, Any]) -> None:
    holders = {
        name
        for name, service in compose["services"].items()
        if "IDENTITY_CODE_HASH_KEY" in environment(service)
    }
    assert holders == {"identity", "identity-migrate", "identity-worker"}


def test_secrets_have_no_defaults(compose: dict[str, Any]) -> None:
    # A deployment that forgot a secret must fail to start, not run with one from the repo.
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    # The same secrets the distributed mode on one host refuses to start without.
    assert set(re.findall(r"\$\{([A-Z_]*(?:SECRET|_KEY)[A-Z_]*)", text)) == set(REQUIRED_SECRETS)
    for name in REQUIRED_SECRETS:
        uses = re.findall(r"\$\{" + name + r"(:?[-?])", text)
        assert uses and set(uses) == {":?"}, name
    services = compose["services"]
    for name in ("documents", "documents-worker", "documents-migrate"):
        assert "DOCUMENTS_SECRET_KEY" in environment(services[name])
    assert "IDENTITY_SECRET_KEY" in environment(services["identity"])
    # Every identity process hashes or checks activation codes (migrate: the bootstrap requires it).
    for name in ("identity", "identity-worker", "identity-migrate"):
        assert "IDENTITY_CODE_HASH_KEY" in environment(services[name])
    assert "WEB_SECRET_KEY" in environment(services["web"])


def _one_shot(compose: dict[str, Any]) -> set[str]:
    """Services others wait for to complete (the migrations)."""
    return {
        dependency
        for service in compose["services"].values()
        for dependency, condition in (service.get("depends_on") or {}).items()
        if isinstance(condition, dict) and condition.get("condition") == "service_completed_successfully"
    }


def test_every_service_comes_back_when_it_dies(compose: dict[str, Any]) -> None:
    one_shot = _one_shot(compose)
    assert one_shot == {f"{route.service}-migrate" for route in SERVICE_ROUTES} | {"web-migrate"}
    for name, service in compose["services"].items():
        restart = str(service.get("restart", "no"))
        if name in one_shot:
            # Retried when it fails; `unless-stopped` would run it again after it succeeded.
            assert re.fullmatch(r"on-failure(:\d+)?", restart), f"{name}: restart {restart}"
        else:
            assert restart == "unless-stopped", f"{name}: restart {restart}"


@pytest.mark.parametrize("route", SERVICE_ROUTES, ids=lambda r: r.service)
def test_metrics_are_summed_over_every_gunicorn_worker(compose: dict[str, Any], route: Route) -> None:
    # prometheus_client's multiprocess mode: a directory per container, gunicorn's hooks keep it right.
    assert environment(compose["services"][route.service])["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    cmd = dockerfile_cmd(dockerfile_of(route))
    assert cmd[cmd.index("--config") + 1] == "python:chassis.gunicorn_config"


def test_the_web_ui_migrates_its_tables_once_before_it_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web-migrate"]["command"] == ["bp-portal", "migrate-web"]
    assert (
        environment(services["web-migrate"])["WEB_DATABASE_URL"]
        == environment(services["web"])["WEB_DATABASE_URL"]
    )
    assert services["web"]["depends_on"]["web-migrate"] == {"condition": "service_completed_successfully"}

"""The distributed mode on one host (``make run-distributed``).

Needs RabbitMQ, PostgreSQL and nginx on the host. Creates the databases
``bp_*`` if missing, migrates and seeds every service, then runs:

- each service under gunicorn on its port (``BP_BEHIND_PROXY=1``),
- each service's worker (every background job it declares: relay, consumer, retention, mail sender),
- the browser UI under gunicorn on 8100,
- an SMTP sink (unless an SMTP server is configured),
- nginx on 8080 with the config generated from the route table.

Secrets come from the environment only and the run refuses to start without
them (``python -m gateway.distributed secrets`` prints fresh ones to export).
Once everything is ready, a supervisor restarts any process that dies, with a
capped exponential backoff, while the others keep serving; Ctrl-C or SIGTERM
stops them all.

``run_distributed()`` is also the library an e2e test uses: it waits until every
``/readyz`` is green and tears everything down by process group.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from chassis.config import DISTRIBUTED, env_prefix
from chassis.db import normalise_url
from gateway import nginx, processes
from gateway.processes import ManagedProcess, Supervisor
from gateway.routes import (
    EDGE_PORT,
    ROUTES,
    WEB,
    Route,
    backend_services,
    database_name,
    local_rate_limits,
)

log = logging.getLogger(__name__)

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
WEB_APP_TARGET = "gateway.web.app:create_app()"
# Every gunicorn runs with the chassis' hooks (metrics of all its workers, see chassis.metrics).
GUNICORN_CONFIG = "python:chassis.gunicorn_config"

# The secrets the distributed mode takes from the environment (chassis.config.require_secret):
# each must be the same in every process that uses it and across restarts.
REQUIRED_SECRETS: dict[str, str] = {
    "BP_WEB_CLIENT_SECRET": "the browser UI's OIDC client secret (identity and web)",
    "WEB_SECRET_KEY": "signs the browser UI's sessions and CSRF tokens",
    "IDENTITY_SECRET_KEY": "signs identity's login session and CSRF tokens",
    "IDENTITY_CODE_HASH_KEY": "keys the hash of apprentices' activation codes (identity)",
    "DOCUMENTS_SECRET_KEY": "seals activation codes that wait for their contract",
}


@dataclass(frozen=True)
class DistributedOptions:
    data_dir: Path = Path("var/distributed")
    edge_port: int = EDGE_PORT
    # Per-service port overrides (an e2e test next to a running portal picks free ones).
    ports: Mapping[str, int] = field(default_factory=dict)
    postgres_url: str = DEFAULT_POSTGRES_URL
    database_prefix: str = "bp_"
    amqp_url: str = DEFAULT_AMQP_URL
    # None: start a local SMTP sink; else (host, port) of the SMTP server to use.
    smtp: tuple[str, int] | None = None
    mail_sink_port: int = 8025
    gunicorn_workers: int = 2
    gunicorn_threads: int = 4
    seed: bool = True
    # For tests: drop the databases and delete the prefixed queues/exchanges afterwards.
    drop_databases_on_exit: bool = False
    delete_topology_on_exit: bool = False
    ready_timeout: float = 90.0
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    # Restarts of dead processes: the first after restart_delay, doubling up to restart_max_delay.
    restart_delay: float = 0.5
    restart_max_delay: float = 30.0

    def port(self, service: str) -> int:
        route = next(route for route in ROUTES if route.service == service)
        return self.ports.get(service, route.port)

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.edge_port}"

    def database_url(self, service: str) -> str:
        url = sa.engine.make_url(normalise_url(self.postgres_url))
        url = url.set(database=database_name(service, self.database_prefix))
        return url.render_as_string(hide_password=False)


@dataclass
class DistributedPortal:
    options: DistributedOptions
    env: dict[str, str]
    processes: list[ManagedProcess] = field(default_factory=list)
    mail_dir: Path | None = None
    supervisor: Supervisor | None = None

    @property
    def base_url(self) -> str:
        return self.options.public_url

    def service_url(self, service: str) -> str:
        """A service directly, bypassing nginx."""
        return f"http://127.0.0.1:{self.options.port(service)}"

    def dead(self) -> list[ManagedProcess]:
        return [process for process in self.processes if not process.alive]

    def process(self, name: str) -> ManagedProcess:
        return next(process for process in self.processes if process.name == name)


# -- environment ---------------------------------------------------------------------------


def missing_secrets(env: Mapping[str, str]) -> list[str]:
    return [name for name in REQUIRED_SECRETS if not env.get(name, "").strip()]


def check_secrets(env: Mapping[str, str]) -> None:
    """Refuse to start (one line, naming each variable) unless every secret is set."""
    missing = missing_secrets(env)
    if missing:
        raise processes.StartupError(
            f"missing secret{'s' if len(missing) > 1 else ''} {', '.join(missing)}: the distributed mode "
            "takes every secret from the environment (export each, e.g. NAME=$(openssl rand -hex 32); "
            "`python -P -m gateway.distributed secrets` prints a set)"
        )


def generate_secrets() -> dict[str, str]:
    """A fresh value for every secret the distributed mode needs (for a first setup, and tests)."""
    return {name: secrets.token_urlsafe(32) for name in REQUIRED_SECRETS}


def build_environment(options: DistributedOptions, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every child process gets; ``env_overrides`` win."""
    env = dict(os.environ if base is None else base)
    data_dir = options.data_dir.resolve()
    identity_port = options.port("identity")
    env.update(
        {
            # Secrets are never generated in this mode (chassis.config.require_secret).
            "BP_MODE": DISTRIBUTED,
            "BP_DATA_DIR": str(data_dir),
            "BP_PUBLIC_URL": options.public_url,
            "BP_API_BASE_URL": options.public_url,
            "BP_BUS_URL": options.amqp_url,
            "BP_BEHIND_PROXY": "1",
            # Services fetch the keys from identity directly, not through the edge.
            "BP_JWKS_URL": f"http://127.0.0.1:{identity_port}/jwks",
            "WEB_DATABASE_URL": options.database_url("web"),
            "PYTHONUNBUFFERED": "1",
            # Never import from the working directory: at the repository root, ./gateway
            # would shadow the installed package.
            "PYTHONSAFEPATH": "1",
        }
    )
    for service in backend_services():
        env[f"{env_prefix(service)}_DATABASE_URL"] = options.database_url(service)
    if options.smtp is None:
        mail_dir = data_dir / "mails"
        env["BP_MAIL_SINK_DIR"] = str(mail_dir)
        env["NOTIFICATIONS_SMTP_HOST"] = "127.0.0.1"
        env["NOTIFICATIONS_SMTP_PORT"] = str(options.mail_sink_port)
    else:
        env.pop("BP_MAIL_SINK_DIR", None)
        env["NOTIFICATIONS_SMTP_HOST"], port = options.smtp
        env["NOTIFICATIONS_SMTP_PORT"] = str(port)
    env.update(options.env_overrides)
    return env


# -- databases -----------------------------------------------------------------------------


def _database_names(options: DistributedOptions) -> list[str]:
    return [database_name(route.service, options.database_prefix) for route in _unique_services()]


def create_databases(options: DistributedOptions) -> list[str]:
    """Create each service's database if it is missing; returns the ones created."""
    admin = sa.create_engine(normalise_url(options.postgres_url), isolation_level="AUTOCOMMIT")
    created = []
    try:
        with admin.connect() as conn:
            existing = set(conn.execute(sa.text("SELECT datname FROM pg_database")).scalars())
            for name in _database_names(options):
                if name not in existing:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
    finally:
        admin.dispose()
    return created


def drop_databases(options: DistributedOptions) -> None:
    admin = sa.create_engine(normalise_url(options.postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in _database_names(options):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def delete_topology(env: Mapping[str, str]) -> None:
    """Delete every catalogued queue (and DLQ) and the exchanges of a prefixed bus namespace."""
    from chassis.events.bus import EventBus

    prefix = env.get("BP_QUEUE_PREFIX", "")
    if not prefix:
        raise ValueError("refusing to delete the unprefixed (shared) bus topology")
    bus = EventBus(env["BP_BUS_URL"], env.get("BP_EXCHANGE", "bildungsportal.events"), queue_prefix=prefix)
    with bus.connection() as conn:
        bus.declare_all(conn)
        bus.delete_topology(conn)


# -- processes -----------------------------------------------------------------------------


def _unique_services() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in ROUTES:
        seen.setdefault(route.service, route)
    return list(seen.values())


def _bin(name: str) -> str:
    """A console script installed next to this interpreter (the venv's bin/)."""
    return str(Path(sys.executable).with_name(name))


def _gunicorn(options: DistributedOptions, port: int, target: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(options.gunicorn_workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(options.gunicorn_threads),
        "--chdir",
        str(options.data_dir.resolve()),
        "--graceful-timeout",
        "10",
        "--config",
        GUNICORN_CONFIG,
        "--access-logfile",
        "-",
        target,
    ]


def _gunicorn_env(options: DistributedOptions, env: Mapping[str, str], service: str) -> dict[str, str]:
    """The service's environment plus its own metrics directory (emptied by gunicorn at each start)."""
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(options.data_dir.resolve() / "metrics" / service)}


def prepare_services(options: DistributedOptions, env: Mapping[str, str], log_dir: Path) -> None:
    """Migrate (and seed) every service's database, in parallel child processes."""
    command = [sys.executable, "-m", "gateway.distributed", "prepare"]
    running = []
    for route in _unique_services():
        argv = [*command, route.package] + (["--seed"] if options.seed and route is not WEB else [])
        running.append(processes.start(f"prepare-{route.service}", argv, env=env, log_dir=log_dir))
    failed = []
    try:
        for process in running:
            if process.popen.wait(timeout=300) != 0:
                failed.append(f"--- {process.name}\n{process.tail()}")
    finally:  # also when the start is abandoned (Ctrl-C) or one hangs
        for process in running:
            process.stop()
    if failed:
        raise processes.StartupError("migrations/seed failed:\n" + "\n".join(failed))


def prepare_one(package: str, *, seed: bool) -> None:
    """Child-process body: migrate and seed one service (``python -m gateway.distributed prepare``)."""
    import importlib

    if package == WEB.package:
        # The browser UI's own tables (sessions, token sets): migrated once, before its workers start.
        from gateway.web.store import migrate

        migrate(os.environ["WEB_DATABASE_URL"])
        return
    module = importlib.import_module(f"{package}.bootstrap")
    runtime = module.bootstrap()
    runtime.migrate()
    if seed:
        module.seed_demo(runtime)
    runtime.engine.dispose()


def _ready(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


def _web_ready(base: str) -> bool:
    response = requests.get(base + "/healthz", timeout=2, allow_redirects=False)
    if response.status_code == 404:
        response = requests.get(base + "/", timeout=2, allow_redirects=False)
    return response.status_code < 500


def _start_mail_sink(directory: Path, port: int) -> Any:
    from gateway.embedded import start_mail_sink

    directory.mkdir(parents=True, exist_ok=True)
    return start_mail_sink(directory, "127.0.0.1", port)


@contextmanager
def run_distributed(
    env_overrides: Mapping[str, str] | None = None,
    data_dir: Path | str | None = None,
    **settings: Any,
) -> Iterator[DistributedPortal]:
    """Run the whole portal distributed on this host until the block ends.

    ``settings`` are ``DistributedOptions`` fields (``edge_port``, ``ports``,
    ``database_prefix``, ``smtp``, ``seed``, ``drop_databases_on_exit`` …).
    Yields once every service's ``/readyz`` is green and nginx routes to each of them.
    """
    if data_dir is not None:
        settings["data_dir"] = Path(data_dir)
    options = DistributedOptions(env_overrides=dict(env_overrides or {}), **settings)
    env = build_environment(options)
    check_secrets(env)
    options.data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = options.data_dir / "logs"
    portal = DistributedPortal(options, env)
    sink = None
    try:
        create_databases(options)
        prepare_services(options, env, log_dir)
        if options.smtp is None:
            portal.mail_dir = Path(env["BP_MAIL_SINK_DIR"])
            sink = _start_mail_sink(portal.mail_dir, options.mail_sink_port)
        for route in _unique_services():
            if route is WEB:
                continue
            port = options.port(route.service)
            target = f"{route.package}.entrypoints.app:create_app()"
            portal.processes.append(
                processes.start(
                    route.service,
                    _gunicorn(options, port, target),
                    env=_gunicorn_env(options, env, route.service),
                    log_dir=log_dir,
                )
            )
            portal.processes.append(
                processes.start(
                    f"{route.service}-worker",
                    [_bin(f"bp-{route.service}"), "worker"],
                    env=env,
                    log_dir=log_dir,
                )
            )
        portal.processes.append(
            processes.start(
                "web",
                _gunicorn(options, options.port("web"), WEB_APP_TARGET),
                env=_gunicorn_env(options, env, "web"),
                log_dir=log_dir,
            )
        )
        runtime_dir = options.data_dir.resolve() / "nginx"
        config = nginx.render(
            nginx.local_options(
                str(runtime_dir),
                listen_port=options.edge_port,
                ports={route.service: options.port(route.service) for route in ROUTES},
                access_log=str(log_dir.resolve() / "nginx-access.log"),
                # The routes' limits, or a benchmark's (BP_BENCH_CREDENTIALS_*) from the portal's env.
                rate_limits=local_rate_limits(env),
            )
        )
        portal.processes.append(processes.start_nginx(config, runtime_dir, log_dir=log_dir))
        _wait_ready(portal)
        # From here on a process that dies is restarted (a crash while starting up fails the run).
        portal.supervisor = Supervisor(
            portal.processes, initial_delay=options.restart_delay, max_delay=options.restart_max_delay
        )
        portal.supervisor.start()
        yield portal
    finally:
        if portal.supervisor is not None:
            portal.supervisor.stop()
        for process in reversed(portal.processes):
            process.stop()
        if sink is not None:
            sink.stop()
        if options.drop_databases_on_exit:
            drop_databases(options)
        if options.delete_topology_on_exit:
            delete_topology(env)


def _wait_ready(portal: DistributedPortal) -> None:
    options = portal.options
    timeout = options.ready_timeout
    watch = portal.processes
    for service in backend_services():
        url = f"{portal.service_url(service)}/readyz"
        processes.wait_until(f"{service} at {url}", partial(_ready, url), timeout=timeout, watch=watch)
    processes.wait_until(
        "the web UI", lambda: _web_ready(portal.service_url("web")), timeout=timeout, watch=watch
    )
    # Readiness was checked on each service's own port; through the edge (which hides
    # /readyz from the public) the liveness endpoint proves the routing.
    for route in ROUTES:
        if route.strips_prefix:
            url = f"{portal.base_url}{route.prefix}/healthz"
            processes.wait_until(f"nginx to route {url}", partial(_ready, url), timeout=timeout, watch=watch)


# -- command line ---------------------------------------------------------------------------


def serve(options: Mapping[str, Any]) -> int:
    stop = threading.Event()
    serving = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        first = not stop.is_set()
        stop.set()
        if first and not serving.is_set():
            # Still starting: abandon the start; run_distributed stops what it started
            # (a second Ctrl-C does not interrupt that).
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        with run_distributed(**options) as portal:
            # Serving before saying so: a SIGTERM right after the line is a stop, not an abandoned start.
            serving.set()
            where = f"E-Mails: {portal.mail_dir}" if portal.mail_dir else "E-Mails an den SMTP-Server"
            print(
                f"\nBildungsportal (verteilt) läuft auf {portal.base_url}/ ({where}; "
                f"Logs: {portal.options.data_dir / 'logs'}; Strg+C beendet)\n",
                flush=True,
            )
            # The supervisor restarts what dies; this thread only waits for Ctrl-C or SIGTERM.
            while not stop.wait(1.0):
                pass
            log.info("stopping every process")
    except processes.StartupError as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        log.info("start abandoned; every process stopped")
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the portal distributed until Ctrl-C")
    run.add_argument("--data-dir", default=os.environ.get("BP_DATA_DIR", "var/distributed"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", EDGE_PORT)))
    run.add_argument("--no-seed", action="store_true")
    prepare = commands.add_parser("prepare", help="migrate (and seed) one service; used by run")
    prepare.add_argument("package")
    prepare.add_argument("--seed", action="store_true")
    commands.add_parser(
        "secrets",
        help="print `export` lines with fresh values for the secrets not yet set "
        '(eval "$(python -P -m gateway.distributed secrets)")',
    )
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare_one(args.package, seed=args.seed)
        return 0
    if args.command == "secrets":
        fresh = generate_secrets()
        for name in missing_secrets(os.environ):
            print(f"export {name}={shlex.quote(fresh[name])}")
        return 0
    options: dict[str, Any] = {
        "data_dir": Path(args.data_dir),
        "edge_port": args.port,
        "seed": not args.no_seed,
        "postgres_url": os.environ.get("BP_POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_URL),
        "amqp_url": os.environ.get("BP_AMQP_URL", DEFAULT_AMQP_URL),
    }
    if os.environ.get("NOTIFICATIONS_SMTP_HOST"):
        options["smtp"] = (
            os.environ["NOTIFICATIONS_SMTP_HOST"],
            int(os.environ.get("NOTIFICATIONS_SMTP_PORT", "25")),
        )
    return serve(options)


if __name__ == "__main__":
    raise SystemExit(main())

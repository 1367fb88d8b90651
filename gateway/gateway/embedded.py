"""The embedded mode (``make run``): the whole portal in one process.

Each service gets its own SQLite file under ``BP_DATA_DIR``, the event bus is
kombu's in-memory transport, and mail goes to a local SMTP sink that stores
``.eml`` files the browser UI can show. A WSGI dispatcher mounts every app
under its prefix from the route table, exactly where nginx puts it in the
distributed mode (identity at both /auth and /api/identity).

The server is threaded: the services fetch identity's JWKS over HTTP from this
same process while they handle a request.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from chassis.config import env_bool
from chassis.logging import configure_logging
from gateway.routes import EDGE_OWNED_HEADERS, EDGE_PORT, ROUTES, WEB, Route, is_docs_path, security_headers

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

WEB_APP_MODULE = "gateway.web.app"
MAIL_SINK_MODULE = "notifications.adapters.mail_sink"
MAILER_MODULE = "notifications.entrypoints.mailer"
MAIL_SINK_PORT = 8025


class MissingServiceError(RuntimeError):
    """A package the route table names is not installed (or fails to import)."""


# -- configuration ---------------------------------------------------------------------


def configure_environment(env: MutableMapping[str, str], *, port: int | None = None) -> int:
    """Fill in the embedded defaults; anything already set wins. Returns the port."""
    port = port or int(env.get("PORT") or EDGE_PORT)
    data = Path(env.setdefault("BP_DATA_DIR", "var")).resolve()
    env["BP_DATA_DIR"] = str(data)
    env.setdefault("BP_PUBLIC_URL", f"http://127.0.0.1:{port}")
    env.setdefault("BP_BUS_URL", "memory://")
    env.setdefault("BP_API_BASE_URL", env["BP_PUBLIC_URL"])
    env.setdefault("BP_MAIL_SINK_DIR", str(data / "mails"))
    env.setdefault("NOTIFICATIONS_SMTP_HOST", "127.0.0.1")
    env.setdefault("NOTIFICATIONS_SMTP_PORT", str(MAIL_SINK_PORT))
    env.setdefault("WEB_DATABASE_URL", f"sqlite:///{data / 'web.db'}")
    # Human-readable logs on a developer's terminal.
    env.setdefault("BP_LOG_JSON", "0")
    data.mkdir(parents=True, exist_ok=True)
    return port


# -- loading the packages ----------------------------------------------------------------


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise MissingServiceError(f"{name} is not installed") from exc
        raise


def load_bootstraps(routes: Iterable[Route] = ROUTES) -> dict[str, ModuleType]:
    """Import every backend service's bootstrap module, or fail naming all that are missing."""
    modules: dict[str, ModuleType] = {}
    missing: list[str] = []
    for route in routes:
        if route is WEB or route.service in modules:
            continue
        try:
            modules[route.service] = _import(f"{route.package}.bootstrap")
        except MissingServiceError as exc:
            missing.append(f"{route.service} ({exc})")
    if missing:
        raise MissingServiceError(
            "The embedded portal needs every service installed; missing: "
            + ", ".join(missing)
            + ". Run scripts/bootstrap.sh (make run does) to install them."
        )
    return modules


# -- the dispatcher ----------------------------------------------------------------------


class EdgeHeaders:
    """Adds the edge's security headers, as nginx does in the distributed mode."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._owned = {name.lower() for name in EDGE_OWNED_HEADERS}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        extra = list(security_headers(relaxed_for_docs=is_docs_path(path)).items())

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() not in self._owned]
            # An app that sets its own Content-Security-Policy keeps it, as behind nginx.
            present = {name.lower() for name, _ in kept}
            added = [(name, value) for name, value in extra if name.lower() not in present]
            return start_response(status, kept + added, exc_info)

        return self.app(environ, start)


def build_dispatcher(apps: Mapping[str, WSGIApp], routes: Iterable[Route] = ROUTES) -> WSGIApp:
    """Mount each service's app under its prefixes; the browser UI takes the rest.

    ``apps`` maps service names (``Route.service``) to WSGI apps. The dispatcher
    moves the prefix from PATH_INFO to SCRIPT_NAME, which is what nginx's
    prefix stripping plus X-Forwarded-Prefix amount to behind ProxyFix.
    """
    routes = list(routes)
    missing = sorted({route.service for route in routes if route.service not in apps})
    if missing:
        raise MissingServiceError(f"no app for: {', '.join(missing)}")
    mounts = {route.prefix: apps[route.service] for route in routes if route.strips_prefix}
    root = next(apps[route.service] for route in routes if not route.strips_prefix)
    return EdgeHeaders(DispatcherMiddleware(root, mounts))


# -- the running portal ----------------------------------------------------------------


@dataclass
class EmbeddedPortal:
    app: WSGIApp
    runtimes: dict[str, Any]
    public_url: str
    mail_dir: Path
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    mail_sink: Any = None

    def start_background(self) -> None:
        """Relays and consumers of every service, and the notifications mail sender."""
        for runtime in self.runtimes.values():
            self.threads.extend(runtime.start_background(self.stop))
        mailer = _import(MAILER_MODULE)
        self.threads.append(mailer.start_mail_sender(self.runtimes["notifications"], self.stop))

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
            if thread.is_alive():
                log.warning("%s did not stop in time", thread.name)
        if self.mail_sink is not None:
            self.mail_sink.stop()
        for runtime in self.runtimes.values():
            runtime.engine.dispose()


def start_mail_sink(directory: Path, host: str, port: int) -> Any:
    """notifications' local SMTP sink: stores every mail as .eml in ``directory``."""
    sink = _import(MAIL_SINK_MODULE).MailSink()
    sink.start(host=host, port=port, directory=directory)
    return sink


def build_portal(env: Mapping[str, str] | None = None, *, seed: bool = True) -> EmbeddedPortal:
    """Bootstrap, migrate and seed every service, then build the dispatcher.

    Reads the process environment (set it up with ``configure_environment``
    first): the services and the browser UI take their settings from it.
    """
    env = os.environ if env is None else env
    bootstraps = load_bootstraps()
    web_module = _import(WEB_APP_MODULE)
    runtimes: dict[str, Any] = {}
    apps: dict[str, WSGIApp] = {}
    for service, module in bootstraps.items():
        runtime = module.bootstrap()
        runtime.migrate()
        if seed:
            module.seed_demo(runtime)
        runtimes[service] = runtime
        apps[service] = runtime.create_app()
        log.info("%s ready (%s)", service, runtime.settings.database_url)
    apps[WEB.service] = web_module.create_app()
    return EmbeddedPortal(
        app=build_dispatcher(apps),
        runtimes=runtimes,
        public_url=env["BP_PUBLIC_URL"],
        mail_dir=Path(env["BP_MAIL_SINK_DIR"]),
    )


@contextmanager
def running(
    host: str = "127.0.0.1", port: int | None = None
) -> Iterator[tuple[EmbeddedPortal, BaseWSGIServer]]:
    """The portal with its background work and SMTP sink, served on ``host:port`` (not yet serving)."""
    port = configure_environment(os.environ, port=port)
    mail_dir = Path(os.environ["BP_MAIL_SINK_DIR"])
    mail_dir.mkdir(parents=True, exist_ok=True)
    portal = build_portal()
    try:
        smtp_host = os.environ["NOTIFICATIONS_SMTP_HOST"]
        # A configured SMTP server elsewhere gets the mail; otherwise the local sink does.
        if smtp_host in ("127.0.0.1", "localhost"):
            portal.mail_sink = start_mail_sink(
                mail_dir, smtp_host, int(os.environ["NOTIFICATIONS_SMTP_PORT"])
            )
        portal.start_background()
        server = make_server(host, port, portal.app, threaded=True)
        try:
            yield portal, server
        finally:
            server.server_close()
    finally:
        portal.close()


def main() -> int:
    port = configure_environment(os.environ)
    configure_logging(os.environ.get("BP_LOG_LEVEL", "INFO"), env_bool(os.environ, "BP_LOG_JSON", False))

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _terminate)
    try:
        with running(host=os.environ.get("BP_HOST", "127.0.0.1"), port=port) as (portal, server):
            print(
                f"\nBildungsportal läuft auf {portal.public_url}/ "
                f"(E-Mails: {portal.mail_dir}; Strg+C beendet)\n",
                flush=True,
            )
            server.serve_forever()
    except MissingServiceError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

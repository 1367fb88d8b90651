"""The embedded mode (``make run``): the whole portal in one process.

Each service gets its own SQLite file under ``BP_DATA_DIR``, the event bus is
kombu's in-memory transport, and mail goes to a local SMTP sink that stores
``.eml`` files the browser UI can show. A WSGI dispatcher mounts every app
under its prefix from the route table, exactly where nginx puts it in the
distributed mode (identity at both /auth and /api/identity).

The server is threaded: the services fetch identity's JWKS over HTTP from this
same process while they handle a request.

Mail goes to the SMTP server that ``NOTIFICATIONS_SMTP_HOST`` names, when one is
configured; then no sink runs. Otherwise the local sink listens on
``BP_MAIL_SINK_PORT`` (default 8025; 0 picks a free port, so that two portals can
run side by side). As behind nginx, the operational endpoints (``/metrics``,
``/readyz``) are not public; ``BP_INTERNAL_PORT`` (0: a free port) serves them
on loopback for operators and probes. A port that is taken ends the start with
one line that says so, not a traceback.
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server, select_address_family

from chassis.config import env_bool
from chassis.logging import configure_logging
from gateway.ratelimit import CredentialRateLimit
from gateway.routes import (
    EDGE_OWNED_HEADERS,
    EDGE_PORT,
    INTERNAL_PATHS,
    ROUTES,
    WEB,
    Route,
    is_docs_path,
    local_rate_limits,
    security_headers,
)

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

WEB_APP_MODULE = "gateway.web.app"
MAIL_SINK_MODULE = "notifications.adapters.mail_sink"
MAIL_SINK_PORT = 8025
# Operators and probes only; never bound beyond loopback.
INTERNAL_HOST = "127.0.0.1"


class MissingServiceError(RuntimeError):
    """A package the route table names is not installed (or fails to import)."""


class PortUnavailable(RuntimeError):
    """A port the portal needs cannot be bound; the message is the one line the user sees."""


MAIL_SINK_REMEDY = {
    "de": "BP_MAIL_SINK_PORT=0 wählt einen freien Port; NOTIFICATIONS_SMTP_HOST und _PORT senden an einen eigenen SMTP-Server.",
    "en": "BP_MAIL_SINK_PORT=0 picks a free one; NOTIFICATIONS_SMTP_HOST and _PORT send to your own SMTP server.",
}


def port_unavailable(
    host: str, port: int, what: str, remedy: Mapping[str, str], exc: OSError
) -> PortUnavailable:
    """One line, German and English, that names the port, what it is for and what to do."""
    in_use = exc.errno == errno.EADDRINUSE
    german = "ist belegt" if in_use else f"ist nicht nutzbar ({exc.strerror})"
    english = "is in use" if in_use else f"cannot be used ({exc.strerror})"
    return PortUnavailable(
        f"Port {port} ({what}) auf {host} {german}. {remedy['de']} / "
        f"Port {port} ({what}) on {host} {english}. {remedy['en']}"
    )


def listen(host: str, port: int, what: str, remedy: Mapping[str, str]) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port), or ``PortUnavailable``."""
    try:
        return socket.create_server((host, port), family=select_address_family(host, port))
    except OSError as exc:
        raise port_unavailable(host, port, what, remedy, exc) from None


# -- configuration ---------------------------------------------------------------------


def configure_environment(env: MutableMapping[str, str], *, port: int | None = None) -> int:
    """Fill in the embedded defaults; anything already set wins. Returns the port."""
    port = port or int(env.get("PORT") or EDGE_PORT)
    data = Path(env.setdefault("BP_DATA_DIR", "var")).resolve()
    env["BP_DATA_DIR"] = str(data)
    env.setdefault("BP_PUBLIC_URL", f"http://127.0.0.1:{port}")
    env.setdefault("BP_BUS_URL", "memory://")
    # One process: a missing secret may be generated once and kept under BP_DATA_DIR.
    env.setdefault("BP_MODE", "embedded")
    env.setdefault("BP_API_BASE_URL", env["BP_PUBLIC_URL"])
    _configure_mail(env, data)
    env.setdefault("WEB_DATABASE_URL", f"sqlite:///{data / 'web.db'}")
    # Human-readable logs on a developer's terminal.
    env.setdefault("BP_LOG_JSON", "0")
    data.mkdir(parents=True, exist_ok=True)
    return port


def _configure_mail(env: MutableMapping[str, str], data: Path) -> None:
    """A configured SMTP server gets the mail; without one, the local sink does.

    ``NOTIFICATIONS_SMTP_HOST`` names a configured server (with
    ``NOTIFICATIONS_SMTP_PORT``): then no sink runs and there is no development
    mailbox. Otherwise the sink listens on ``BP_MAIL_SINK_PORT`` (default: a
    given ``NOTIFICATIONS_SMTP_PORT``, else 8025; 0 picks a free port) and
    notifications sends to it. ``BP_MAIL_SINK_PORT`` marks that choice, so this
    runs again with the same outcome.
    """
    if env.get("NOTIFICATIONS_SMTP_HOST") and "BP_MAIL_SINK_PORT" not in env:
        return
    env.setdefault("BP_MAIL_SINK_PORT", env.get("NOTIFICATIONS_SMTP_PORT") or str(MAIL_SINK_PORT))
    env.setdefault("BP_MAIL_SINK_DIR", str(data / "mails"))
    env["NOTIFICATIONS_SMTP_HOST"] = "127.0.0.1"
    env["NOTIFICATIONS_SMTP_PORT"] = env["BP_MAIL_SINK_PORT"]


def port_setting(env: Mapping[str, str], name: str) -> int | None:
    """The port in the environment variable ``name`` (0: any free one), None where it is unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 65535:
        raise PortUnavailable(
            f"{name}={raw!r} ist keine Portnummer (0–65535) / is not a port number (0–65535)"
        )
    return int(raw)


def mail_sink_port(env: Mapping[str, str]) -> int | None:
    """The local sink's port (0: any free one) when the portal runs the sink, else None."""
    return port_setting(env, "BP_MAIL_SINK_PORT")


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


class HideInternalPaths:
    """404 problem+json for the services' operational endpoints, as nginx answers at the edge.

    ``/metrics`` and ``/readyz`` (``INTERNAL_PATHS``) under every prefix of the
    route table; the same rule as the generated nginx config, on the decoded
    path with repeated and trailing slashes folded.
    """

    def __init__(self, app: WSGIApp, routes: Iterable[Route] = ROUTES) -> None:
        self.app = app
        prefixes = "|".join(re.escape(route.prefix) for route in routes if route.strips_prefix)
        internal = "|".join(re.escape(path.lstrip("/")) for path in INTERNAL_PATHS)
        self.pattern = re.compile(f"^({prefixes})/({internal})$")
        from gateway.nginx import EDGE_PROBLEMS

        title, detail = EDGE_PROBLEMS[404]
        self.body = json.dumps(
            {"type": "about:blank", "title": title, "status": 404, "detail": detail}
        ).encode()

    def hidden(self, path: str) -> bool:
        folded = re.sub("/{2,}", "/", path or "/")
        return self.pattern.match(folded.rstrip("/")) is not None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.hidden(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        headers = [("Content-Type", "application/problem+json"), ("Content-Length", str(len(self.body)))]
        start_response("404 NOT FOUND", headers)
        return [self.body]


def build_dispatcher(
    apps: Mapping[str, WSGIApp], routes: Iterable[Route] = ROUTES, *, internal: bool = False
) -> WSGIApp:
    """Mount each service's app under its prefixes; the browser UI takes the rest.

    ``apps`` maps service names (``Route.service``) to WSGI apps. The dispatcher
    moves the prefix from PATH_INFO to SCRIPT_NAME, which is what nginx's
    prefix stripping plus X-Forwarded-Prefix amount to behind ProxyFix.
    The edge's dispatcher answers 404 for the operational endpoints; the
    ``internal`` one (loopback, ``BP_INTERNAL_PORT``) serves them, as the
    services' own ports do in the distributed mode.
    """
    routes = list(routes)
    missing = sorted({route.service for route in routes if route.service not in apps})
    if missing:
        raise MissingServiceError(f"no app for: {', '.join(missing)}")
    mounts = {route.prefix: apps[route.service] for route in routes if route.strips_prefix}
    root = next(apps[route.service] for route in routes if not route.strips_prefix)
    dispatcher: WSGIApp = DispatcherMiddleware(root, mounts)
    if not internal:
        dispatcher = HideInternalPaths(dispatcher, routes)
        # nginx's credentials limit, the same table and numbers (gateway.ratelimit).
        dispatcher = CredentialRateLimit(dispatcher, limits=local_rate_limits(os.environ))
    return EdgeHeaders(dispatcher)


# -- the running portal ----------------------------------------------------------------


@dataclass
class EmbeddedPortal:
    app: WSGIApp
    runtimes: dict[str, Any]
    public_url: str
    mail_dir: Path | None  # the local sink's folder; None where a configured SMTP server gets the mail
    # The same apps with the operational endpoints (metrics, readiness), for BP_INTERNAL_PORT.
    internal_app: WSGIApp | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    mail_sink: Any = None

    def start_background(self) -> None:
        """Every service's declared workers (relay, consumer, retention, its own), in threads."""
        for runtime in self.runtimes.values():
            self.threads.extend(runtime.start_workers(self.stop))

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
    """notifications' local SMTP sink: stores every mail as .eml in ``directory``.

    ``port`` 0 picks a free port (``sink.port``); a taken port is ``PortUnavailable``.
    """
    sink = _import(MAIL_SINK_MODULE).MailSink()
    try:
        sink.start(host=host, port=port, directory=directory)
    except OSError as exc:
        raise port_unavailable(host, port, "Mail-Sink/mail sink", MAIL_SINK_REMEDY, exc) from None
    return sink


def build_portal(env: Mapping[str, str] | None = None, *, seed: bool = True) -> EmbeddedPortal:
    """Bootstrap, migrate and seed every service, then build the dispatcher.

    Reads the process environment (set it up with ``configure_environment``
    first): the services and the browser UI take their settings from it.
    """
    env = os.environ if env is None else env
    bootstraps = load_bootstraps()
    web_module = _import(WEB_APP_MODULE)
    web_store = _import("gateway.web.store")
    web_config = _import("gateway.web.config")
    runtimes: dict[str, Any] = {}
    apps: dict[str, WSGIApp] = {}
    for service, module in bootstraps.items():
        runtime = module.bootstrap()
        runtime.migrate()
        if seed:
            module.seed_demo(runtime)
        runtimes[service] = runtime
        apps[service] = _import(f"{module.__name__.rsplit('.', 1)[0]}.entrypoints.app").build_app(runtime)
        log.info("%s ready (%s)", service, runtime.settings.database_url)
    # The UI's own tables, migrated like every service's before its app starts.
    web_store.migrate(web_config.WebSettings.from_env(env).database_url)
    apps[WEB.service] = web_module.create_app()
    mail_dir = env.get("BP_MAIL_SINK_DIR")
    return EmbeddedPortal(
        app=build_dispatcher(apps),
        internal_app=build_dispatcher(apps, internal=True),
        runtimes=runtimes,
        public_url=env["BP_PUBLIC_URL"],
        mail_dir=Path(mail_dir) if mail_dir else None,
    )


@dataclass
class Serving:
    """The running portal and where it is reached."""

    portal: EmbeddedPortal
    server: BaseWSGIServer
    internal_server: BaseWSGIServer | None = None
    mail_sink_port: int | None = None

    @property
    def internal_url(self) -> str | None:
        if self.internal_server is None:
            return None
        return f"http://{INTERNAL_HOST}:{self.internal_server.port}"


def _serve(host: str, listener: socket.socket, app: WSGIApp) -> BaseWSGIServer:
    # werkzeug takes over the socket bound before the slow start (it duplicates the descriptor).
    server = make_server(host, 0, app, threaded=True, fd=listener.fileno())
    listener.close()
    return server


@contextmanager
def running(host: str = "127.0.0.1", port: int | None = None) -> Iterator[Serving]:
    """The portal with its background work and SMTP sink, served on ``host:port`` (not yet serving).

    Every port is bound first, so that one that is taken ends the start at once
    (``PortUnavailable``), before the services are migrated and seeded.
    """
    port = configure_environment(os.environ, port=port)
    # The UI's development mailbox exists only while the portal listens on loopback.
    os.environ["BP_HOST"] = host
    listeners: list[socket.socket] = []
    sink = None
    portal: EmbeddedPortal | None = None
    try:
        public = listen(
            host, port, "Portal", {"de": "PORT wählt einen anderen.", "en": "set PORT to another one."}
        )
        listeners.append(public)
        internal = None
        internal_port = port_setting(os.environ, "BP_INTERNAL_PORT")
        if internal_port is not None:
            internal = listen(
                INTERNAL_HOST,
                internal_port,
                "Betrieb/operations",
                {
                    "de": "BP_INTERNAL_PORT=0 wählt einen freien.",
                    "en": "BP_INTERNAL_PORT=0 picks a free one.",
                },
            )
            listeners.append(internal)
        sink_port = mail_sink_port(os.environ)
        if sink_port is not None:
            sink = start_mail_sink(Path(os.environ["BP_MAIL_SINK_DIR"]), "127.0.0.1", sink_port)
            # Port 0: notifications sends where the sink really listens.
            os.environ["BP_MAIL_SINK_PORT"] = os.environ["NOTIFICATIONS_SMTP_PORT"] = str(sink.port)
        portal = build_portal()
        portal.mail_sink, sink = sink, None
        portal.start_background()
        server = _serve(host, public, portal.app)
        internal_server = None
        if internal is not None and portal.internal_app is not None:
            internal_server = _serve(INTERNAL_HOST, internal, portal.internal_app)
            threading.Thread(target=internal_server.serve_forever, name="internal-http", daemon=True).start()
        try:
            yield Serving(
                portal, server, internal_server, portal.mail_sink.port if portal.mail_sink else None
            )
        finally:
            if internal_server is not None:
                internal_server.shutdown()
                internal_server.server_close()
            server.server_close()
    finally:
        for listener in listeners:
            listener.close()
        if sink is not None:
            sink.stop()
        if portal is not None:
            portal.close()


def main() -> int:
    port = configure_environment(os.environ)
    configure_logging(os.environ.get("BP_LOG_LEVEL", "INFO"), env_bool(os.environ, "BP_LOG_JSON", False))

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _terminate)
    try:
        with running(host=os.environ.get("BP_HOST", "127.0.0.1"), port=port) as serving:
            print(_started(serving), flush=True)
            serving.server.serve_forever()
    except PortUnavailable as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    except MissingServiceError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


def _started(serving: Serving) -> str:
    portal = serving.portal
    if serving.mail_sink_port is not None:
        mail = f"E-Mails: {portal.mail_dir}, SMTP-Sink 127.0.0.1:{serving.mail_sink_port}"
    else:
        mail = f"E-Mails an {os.environ.get('NOTIFICATIONS_SMTP_HOST')}:{os.environ.get('NOTIFICATIONS_SMTP_PORT')}"
    internal = f"; Betrieb (metrics, readyz): {serving.internal_url}" if serving.internal_url else ""
    return f"\nBildungsportal läuft auf {portal.public_url}/ ({mail}{internal}; Strg+C beendet)\n"


if __name__ == "__main__":
    raise SystemExit(main())

"""Fixtures for the edge tests: stand-in WSGI apps for the services, served on free ports."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


@pytest.fixture(scope="session")
def echo_app() -> Callable[[str], WSGIApp]:
    """A factory of stand-in services (see ``make_echo_app``)."""
    return make_echo_app


def make_echo_app(service: str) -> WSGIApp:
    """A stand-in service: answers with what reached it, as JSON.

    It also sets headers the edge must replace (X-Frame-Options) or keep unique
    (X-Request-ID), like the real services do.
    """

    @Request.application
    def app(request: Request) -> Response:
        body = request.get_data()
        seen = {
            "service": service,
            "script_name": request.environ.get("SCRIPT_NAME", ""),
            "path": request.path,
            "query": request.query_string.decode(),
            "method": request.method,
            "body_length": len(body),
            "headers": {key.lower(): value for key, value in request.headers.items()},
        }
        response = Response(json.dumps(seen), mimetype="application/json")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        if "csp" in request.args:  # an app with a policy of its own
            response.headers["Content-Security-Policy"] = request.args["csp"]
        response.headers["X-Request-ID"] = request.headers.get("X-Request-ID", "from-app")
        return response

    return app


@dataclass
class StandIn:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)


@pytest.fixture(scope="session")
def serve_wsgi() -> Iterator[Callable[[WSGIApp], StandIn]]:
    """Serve WSGI apps on free loopback ports (threaded) until the session ends."""
    started: list[StandIn] = []

    def serve(app: WSGIApp) -> StandIn:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        stand_in = StandIn(server, thread)
        started.append(stand_in)
        return stand_in

    yield serve
    for stand_in in started:
        stand_in.server.shutdown()
        stand_in.server.server_close()

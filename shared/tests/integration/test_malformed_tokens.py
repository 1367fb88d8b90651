"""Malformed tokens through a service app built by the chassis' factory: always a 401 problem,
never a 5xx, never a hung connection, through the WSGI test client and a real HTTP server."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.serving import BaseWSGIServer, make_server

from chassis.app import create_service_app
from chassis.auth import INVALID_TOKEN_CHALLENGE, current_principal
from chassis.config import ServiceSettings
from chassis.db import new_metadata
from chassis.events.tables import add_messaging_tables
from chassis.service import ServiceRuntime, build_runtime
from chassis.testing.hostile_tokens import b64url, malformed_authorization_headers
from chassis.testing.tokens import TestIssuer
from chassis.uow import SqlAlchemyUnitOfWork

MISSING_TOKEN_CHALLENGE = 'Bearer realm="bildungsportal"'
ISSUER = TestIssuer()
HEADERS = malformed_authorization_headers(ISSUER)
# The HTTP server refuses header lines over 64 KiB itself (431) before the app sees them.
SOCKET_HEADERS = [(name, value) for name, value in HEADERS if len(value) < 16_000]


class NoteSchema(Schema):
    text = fields.String(required=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    blp = Blueprint("notes", __name__, url_prefix="/notes")

    @blp.route("/mine")
    def mine() -> dict:
        return {"sub": current_principal().subject}

    @blp.route("", methods=["POST"])
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def create(note: dict) -> dict:
        current_principal()
        return note

    data_dir = tmp_path_factory.mktemp("data")
    metadata = new_metadata()
    add_messaging_tables(metadata)
    settings = dataclasses.replace(
        ServiceSettings.from_env("exams", {"BP_DATA_DIR": str(data_dir), "BP_LOG_JSON": "0"}),
        database_url=f"sqlite:///{data_dir / 'exams.db'}",
    )
    runtime = build_runtime(
        ServiceRuntime, settings, metadata=metadata, migrations_dir=data_dir, uow_class=SqlAlchemyUnitOfWork
    )
    runtime.token_validator = ISSUER.validator()
    return create_service_app(runtime, title="t", description="d", blueprints=[blp])


def assert_safe_401(name: str, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    assert status == 401, f"{name}: {status} {body[:200]!r}"
    values = dict(headers)
    assert values["Content-Type"] == "application/problem+json", name
    assert values["WWW-Authenticate"] in (INVALID_TOKEN_CHALLENGE, MISSING_TOKEN_CHALLENGE), name
    for key, value in headers:
        value.encode("latin-1")  # every header value is Latin-1 …
        assert not any(c in value for c in "\r\n\x00"), f"{name}: {key} carries a control character"
    problem = json.loads(body)
    assert problem["status"] == 401 and problem["type"].endswith(("invalid-token", "missing-token"))


@pytest.mark.parametrize(("name", "authorization"), HEADERS, ids=[name for name, _ in HEADERS])
def test_test_client_gets_a_safe_401(app: Flask, name: str, authorization: str) -> None:
    client = app.test_client()
    for response in (
        client.get("/notes/mine", headers={"Authorization": authorization}),
        client.post("/notes", json={"text": "x"}, headers={"Authorization": authorization}),
    ):
        assert_safe_401(name, response.status_code, list(response.headers.items()), response.get_data())


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    """The app on werkzeug's threaded HTTP/1.1 server, as the embedded mode serves it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="malformed-token-server", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _request(conn: http.client.HTTPConnection, method: str, path: str, authorization: str) -> Response:
    # Sent as UTF-8 bytes: what a client does with characters that are not Latin-1.
    body = b'{"text": "x"}' if method == "POST" else None
    conn.putrequest(method, path)
    conn.putheader("Authorization", authorization.encode("utf-8"))
    if body is not None:
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    answer = conn.getresponse()
    return Response(answer.read(), status=answer.status, headers=answer.getheaders())


def test_real_server_answers_every_malformed_token_on_one_kept_alive_connection(
    server: BaseWSGIServer,
) -> None:
    """The U+2028 ``alg`` once left the connection open with no answer (the client waited forever)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    try:
        for name, authorization in SOCKET_HEADERS:
            for method, path in (("GET", "/notes/mine"), ("POST", "/notes")):
                try:
                    response = _request(conn, method, path, authorization)
                except TimeoutError:
                    pytest.fail(f"{name}: no answer within 5 s to {method} {path}")
                except (http.client.HTTPException, ConnectionError) as exc:
                    pytest.fail(f"{name}: the server broke the connection ({exc!r}) on {method} {path}")
                assert_safe_401(
                    name, response.status_code, list(response.headers.items()), response.get_data()
                )
        valid = _request(conn, "GET", "/notes/mine", f"Bearer {ISSUER.token('u-1')}")
        assert valid.status_code == 200 and valid.get_json() == {"sub": "u-1"}
    finally:
        conn.close()


@pytest.mark.parametrize("alg", ["RS\u2028256", "RS256\u20ac", "RS256\nX-Injected: 1"])
def test_real_server_answers_a_hostile_alg_instead_of_hanging(server: BaseWSGIServer, alg: str) -> None:
    """Copied into WWW-Authenticate, U+2028 or € failed the header write after the status line
    and the client waited for the rest of the answer until its own timeout."""
    token = f"{b64url(json.dumps({'alg': alg}, ensure_ascii=False).encode())}.e30.c2ln"
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    try:
        response = _request(conn, "GET", "/notes/mine", f"Bearer {token}")
    except TimeoutError:
        pytest.fail(f"no answer within 5 s for alg {alg!r}")
    finally:
        conn.close()
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE

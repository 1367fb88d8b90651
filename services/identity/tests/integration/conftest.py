"""identity against a real PostgreSQL (and RabbitMQ where the consumer is under test)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from chassis.config import ServiceSettings, require_secret
from chassis.demo import demo_account
from chassis.events.catalogue import load_payload, outgoing_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messages import IntegrationEvent
from identity.bootstrap import IdentityRuntime, bootstrap, seed_demo
from identity.entrypoints.app import build_app

PUBLIC_URL = "http://portal.test"
ISSUER = f"{PUBLIC_URL}/auth"


# -- the browser side of the OIDC flow, for integration tests ------------------------------------------
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "form without CSRF token"
    return match.group(1)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class OidcBrowser:
    """Drives a Flask test client through login and the authorization endpoint."""

    client: Any
    client_id: str
    client_secret: str
    redirect_uri: str

    def login(self, login: str, password: str) -> Any:
        page = self.client.get("/login")
        return self.client.post(
            "/login",
            data={
                "login": login,
                "password": password,
                "csrf_token": csrf_token(page.get_data(as_text=True)),
            },
        )

    def authorize_params(self, **overrides: str | None) -> dict[str, str]:
        _, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **params: str) -> Any:
        return self.client.get("/authorize?" + urlencode(params))

    def code_for(
        self, login: str, password: str, verifier: str, challenge: str, **extra: str
    ) -> tuple[str, dict]:
        params = self.authorize_params(code_challenge=challenge, **extra)
        first = self.authorize(**params)
        assert first.status_code == 302
        if first.headers["Location"].endswith("/login"):
            done = self.login(login, password)
            assert done.status_code == 302, done.get_data(as_text=True)
            first = self.client.get(done.headers["Location"])
        location = urlsplit(first.headers["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.redirect_uri
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert query.get("state") == params["state"], query
        return query["code"], params

    def token(self, **form: str) -> Any:
        return self.client.post("/token", data=form, auth=(self.client_id, self.client_secret))


@pytest.fixture
def identity_env(database_url: str, queue_prefix: str, tmp_path: Path) -> dict[str, str]:
    return {
        "IDENTITY_DATABASE_URL": database_url,
        "BP_BUS_URL": "memory://",
        "BP_QUEUE_PREFIX": queue_prefix,
        "BP_EXCHANGE": f"{queue_prefix}events",
        "BP_PUBLIC_URL": PUBLIC_URL,
        "BP_DATA_DIR": str(tmp_path),
        # Secrets as in the embedded mode: generated once, kept under BP_DATA_DIR.
        "BP_MODE": "embedded",
        "BP_LOG_JSON": "0",
        # A cheaper argon2id keeps the suite fast; the cost is a setting like any other.
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_ARGON2_MEMORY_KIB": "8192",
        "IDENTITY_ARGON2_PARALLELISM": "1",
    }


@pytest.fixture
def make_runtime(identity_env: dict[str, str]) -> Iterator[Callable[..., IdentityRuntime]]:
    made: list[IdentityRuntime] = []

    def make(**env: str) -> IdentityRuntime:
        runtime = bootstrap(ServiceSettings.from_env("identity", identity_env | env))
        runtime.migrate()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.engine.dispose()


@pytest.fixture
def runtime(make_runtime: Callable[..., IdentityRuntime]) -> IdentityRuntime:
    runtime = make_runtime()
    seed_demo(runtime)
    return runtime


@pytest.fixture
def app(runtime: IdentityRuntime) -> Flask:
    return build_app(runtime)


@pytest.fixture
def browser(app: Flask, runtime: IdentityRuntime) -> OidcBrowser:
    return OidcBrowser(
        client=app.test_client(),
        client_id="portal-web",
        # The one identity registered the client with (kept under BP_DATA_DIR).
        client_secret=require_secret("BP_WEB_CLIENT_SECRET", None, runtime.settings),
        redirect_uri=f"{PUBLIC_URL}/oidc/callback",
    )


@pytest.fixture
def pkce() -> Callable[[], tuple[str, str]]:
    return pkce_pair


@pytest.fixture
def csrf() -> Callable[[str], str]:
    return csrf_token


def _form_poster(client: Any) -> Callable[..., Any]:
    def post(path: str, **data: str) -> Any:
        page = client.get(path)
        return client.post(path, data=data | {"csrf_token": csrf_token(page.get_data(as_text=True))})

    return post


@pytest.fixture
def form_post(browser: OidcBrowser) -> Callable[..., Any]:
    """GET a form page, then POST it with its CSRF token (in the browser's session)."""
    return _form_poster(browser.client)


@pytest.fixture
def form_post_for() -> Callable[[Flask], Callable[..., Any]]:
    """A form poster for another app instance (a fresh browser)."""
    return lambda app: _form_poster(app.test_client())


@pytest.fixture
def tokens_for(app: Flask, runtime: IdentityRuntime) -> Callable[[str], dict[str, Any]]:
    """The token answer for a demo account (``chassis.demo``), each logged in in a browser of its own."""

    def tokens(key: str) -> dict[str, Any]:
        person = demo_account(key)
        own = OidcBrowser(
            client=app.test_client(),
            client_id="portal-web",
            client_secret=require_secret("BP_WEB_CLIENT_SECRET", None, runtime.settings),
            redirect_uri=f"{PUBLIC_URL}/oidc/callback",
        )
        verifier, challenge = pkce_pair()
        code, _ = own.code_for(person.login, person.password, verifier, challenge)
        answer = own.token(
            grant_type="authorization_code", code=code, redirect_uri=own.redirect_uri, code_verifier=verifier
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        answered: dict[str, Any] = answer.get_json()
        return answered

    return tokens


@pytest.fixture
def access_token_for(tokens_for: Callable[[str], dict[str, Any]]) -> Callable[[str], str]:
    """An access token of a demo account."""
    return lambda key: str(tokens_for(key)["access_token"])


@pytest.fixture
def deliver(runtime: IdentityRuntime) -> Callable[[IntegrationEvent], None]:
    """Hand an event to identity's handler as its consumer would (typed payload, inbox)."""

    def deliver(event: IntegrationEvent) -> None:
        envelope = outgoing_envelope(event, producer="training-records", subject=str(uuid.uuid4()))
        typed = load_payload(envelope.type, envelope.version, envelope.payload)
        runtime.bus.handle_event(IncomingEvent(envelope, typed))

    return deliver


# -- identity served over HTTP (for clients that speak HTTP: chassis' JwksClient, third-party OIDC) ---
class FakeClock:
    """A clock the test moves forward (key rotation); starts at the real time."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class _Late:
    """A WSGI app bound after the port is known (the issuer names the port)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


@dataclass
class LiveIdentity:
    runtime: IdentityRuntime
    issuer: str
    clock: FakeClock
    client_id: str
    client_secret: str
    redirect_uri: str


@pytest.fixture
def live_identity(identity_env: dict[str, str]) -> Iterator[LiveIdentity]:
    """identity under /auth on a real port, its key set on a clock the test moves."""
    holder = _Late()
    server = make_server("127.0.0.1", 0, holder, threaded=True)
    public_url = f"http://127.0.0.1:{server.server_port}"
    clock = FakeClock()
    runtime = bootstrap(
        ServiceSettings.from_env("identity", identity_env | {"BP_PUBLIC_URL": public_url}), clock=clock
    )
    runtime.migrate()
    seed_demo(runtime)
    holder.app = DispatcherMiddleware(_not_found, {"/auth": build_app(runtime)})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveIdentity(
            runtime=runtime,
            issuer=runtime.settings.issuer,
            clock=clock,
            client_id="portal-web",
            client_secret=require_secret("BP_WEB_CLIENT_SECRET", None, runtime.settings),
            redirect_uri=f"{public_url}/oidc/callback",
        )
    finally:
        server.shutdown()
        server.server_close()
        runtime.engine.dispose()


def _not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def http_login_at(http: Any, issuer: str, authorize_url: str, login: str, password: str) -> str:
    """The person's part over HTTP: follow the authorization request to the login form, log in,
    and return the redirect back to the client (with code and state)."""
    origin = issuer.rsplit("/auth", 1)[0]
    response = http.get(authorize_url, allow_redirects=False, timeout=30)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    if not location.startswith(origin) and location.startswith("/"):
        location = origin + location
    if "/login" in urlsplit(location).path:
        form = http.get(location, timeout=30)
        done = http.post(
            location,
            data={"login": login, "password": password, "csrf_token": csrf_token(form.text)},
            allow_redirects=False,
            timeout=30,
        )
        assert done.status_code == 302, done.text
        target = done.headers["Location"]
        target = origin + target if target.startswith("/") else target
        response = http.get(target, allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
    return location


@pytest.fixture
def http_code_flow() -> Callable[..., dict[str, Any]]:
    """authorize → login → code → token over HTTP against ``live_identity``, with a fresh PKCE pair."""

    def flow(live: LiveIdentity, http: requests.Session, account: Any) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(8)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": live.client_id,
                "redirect_uri": live.redirect_uri,
                "scope": "openid profile email",
                "state": state,
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        back = http_login_at(
            http, live.issuer, f"{live.issuer}/authorize?{query}", account.login, account.password
        )
        params = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
        assert params["state"] == state
        response = http.post(
            f"{live.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"],
                "redirect_uri": live.redirect_uri,
                "code_verifier": verifier,
            },
            auth=(live.client_id, live.client_secret),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    return flow


@pytest.fixture
def http_login() -> Callable[..., str]:
    return http_login_at

"""Tampered tokens (alg none, algorithm confusion, a modified payload, a foreign key, expired, the
wrong audience or issuer) made from a token identity really issued, against identity and against
another service (training-records, which fetches identity's JWKS over HTTP as in production):
each is a 401 problem+json, never a 5xx; the genuine token passes at both."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

import identity.bootstrap
import identity.entrypoints.app
import training_records.bootstrap
import training_records.entrypoints.app
from chassis.config import ServiceSettings, require_secret
from chassis.testing.hostile_tokens import tampered_tokens
from chassis.testing.oidc_login import access_token


@dataclass
class Services:
    base_url: str
    identity: Any  # identity's runtime
    identity_client: Any
    training_client: Any


class _Late:
    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


def _not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b""]


@pytest.fixture
def services(make_database: Any, tmp_path: Path) -> Iterator[Services]:
    holder = _Late()
    server = make_server("127.0.0.1", 0, holder, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    common = {
        "BP_DATA_DIR": str(tmp_path),
        "BP_MODE": "embedded",
        "BP_PUBLIC_URL": base_url,
        "BP_LOG_JSON": "0",
    }
    common = common | {"BP_BUS_URL": "memory://"}

    def runtime(package: Any, name: str) -> Any:
        made = package.bootstrap.bootstrap(
            dataclasses.replace(
                ServiceSettings.from_env(name, env=common),
                database_url=make_database(f"tamper_{package.__name__}"),
            )
        )
        made.migrate()
        package.bootstrap.seed_demo(made)
        return made

    identity_runtime = runtime(identity, "identity")
    identity_app = identity.entrypoints.app.build_app(identity_runtime)
    holder.app = DispatcherMiddleware(_not_found, {"/auth": identity_app})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    training_runtime = runtime(training_records, "training-records")
    training_app = training_records.entrypoints.app.build_app(training_runtime)
    try:
        yield Services(base_url, identity_runtime, identity_app.test_client(), training_app.test_client())
    finally:
        server.shutdown()
        server.server_close()
        identity_runtime.engine.dispose()
        training_runtime.engine.dispose()


def _get(client: Any, path: str, token: str) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_tampered_tokens_are_401_problem_json_at_identity_and_another_service(services: Services) -> None:
    secret = require_secret("BP_WEB_CLIENT_SECRET", None, services.identity.settings)
    genuine = access_token(services.base_url, secret, "clerk")
    targets = {
        "identity /accounts/me": (services.identity_client, "/accounts/me"),
        "training-records /occupations": (services.training_client, "/occupations"),
    }
    for name, (client, path) in targets.items():
        assert _get(client, path, genuine).status_code == 200, name
    forged = tampered_tokens(genuine, services.identity.keys.signing_key)
    assert len(forged) >= 10
    for label, token in forged:
        for name, (client, path) in targets.items():
            response = _get(client, path, token)
            assert response.status_code == 401, (label, name, response.get_data(as_text=True))
            assert response.headers["Content-Type"].startswith("application/problem+json"), (label, name)
            assert response.get_json()["status"] == 401
        # identity's OAuth resource endpoint refuses them the OAuth way (RFC 6750), not with a 5xx.
        userinfo = _get(services.identity_client, "/userinfo", token)
        assert userinfo.status_code == 401, (label, userinfo.get_data(as_text=True))

"""A missing database answers 503 with Retry-After (German pages for people), never 500."""

from __future__ import annotations

from pathlib import Path

from chassis.config import ServiceSettings
from identity.bootstrap import bootstrap
from identity.entrypoints.app import build_app


def test_missing_database_gives_503_not_500(tmp_path: Path) -> None:
    env = {
        # Nothing listens on port 1: the database is "down" from the first request on.
        "IDENTITY_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/identity",
        "BP_DATA_DIR": str(tmp_path),
        "BP_MODE": "embedded",
        "BP_LOG_JSON": "0",
    }
    runtime = bootstrap(ServiceSettings.from_env("identity", env))
    client = build_app(runtime).test_client()

    assert client.get("/healthz").status_code == 200  # alive, just not ready
    assert client.get("/readyz").status_code == 503

    for path in ("/login", "/activate", "/authorize?client_id=portal-web", "/logout"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert page.headers["Retry-After"]
        assert "Bitte versuchen Sie es in einigen Minuten erneut." in page.get_data(as_text=True)

    for response in (
        client.get("/jwks"),
        client.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": "x"}, auth=("portal-web", "s")
        ),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.headers["Content-Type"].startswith("application/problem+json")
    runtime.engine.dispose()

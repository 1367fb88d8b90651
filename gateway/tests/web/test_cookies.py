"""The BFF's session cookie: HttpOnly and SameSite always; Secure with the __Host- prefix (so no
other host or path can set or read it) wherever the portal is served over https."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from gateway.web.app import create_app
from gateway.web.config import WebSettings
from gateway.web.store import migrate


def _app(tmp_path: Path, public_url: str, fake_services: object) -> Flask:
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": public_url,
            "WEB_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
            "WEB_SECRET_KEY": "unit-test-secret",
            "BP_WEB_CLIENT_SECRET": "unit-test-client-secret",
            "BP_DATA_DIR": str(tmp_path),
        }
    )
    migrate(settings.database_url)
    return create_app(
        settings, services_factory=lambda _token: fake_services, public_services_factory=lambda: fake_services
    )


def _session_cookie(app: Flask, base_url: str) -> dict[str, str]:
    # A protected page without login remembers where to return: the session cookie is set.
    response = app.test_client().get("/ausbildungsverhaeltnisse", base_url=base_url)
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if "session" in c.split("=", 1)[0]]
    name_value, *attributes = [part.strip() for part in cookie.split(";")]
    parsed = {"name": name_value.split("=", 1)[0]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        parsed[key.lower()] = value or "yes"
    return parsed


def test_over_https_the_session_cookie_is_host_bound_secure_httponly_and_samesite(
    tmp_path: Path, fake_services: object
) -> None:
    cookie = _session_cookie(
        _app(tmp_path, "https://portal.example", fake_services), "https://portal.example"
    )
    assert cookie["name"] == "__Host-bp_session"
    assert cookie.get("secure") == "yes" and cookie.get("httponly") == "yes"
    assert cookie.get("samesite") == "Lax"
    assert cookie.get("path") == "/" and "domain" not in cookie  # what __Host- requires


def test_over_plain_http_development_it_is_still_httponly_and_samesite(
    tmp_path: Path, fake_services: object
) -> None:
    cookie = _session_cookie(_app(tmp_path, "http://portal.test", fake_services), "http://portal.test")
    assert cookie["name"] == "bp_session"
    assert cookie.get("httponly") == "yes" and cookie.get("samesite") == "Lax"
    assert "secure" not in cookie

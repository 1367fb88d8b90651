"""The UI's own database (sessions) unreachable: 503 with Retry-After, never "form expired"."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from gateway.processes import free_port
from gateway.web.app import create_app
from gateway.web.config import WebSettings


@pytest.fixture
def unreachable(fake_services) -> FlaskClient:
    # A PostgreSQL URL on a port where nothing listens: every connection is refused.
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": "http://portal.test",
            "WEB_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/bp_web",
            "WEB_SECRET_KEY": "unit-test-secret",
            "BP_WEB_CLIENT_SECRET": "unit-test-client-secret",
        }
    )
    # Starting needs no database: the app comes up and answers 503 until it is back.
    app = create_app(settings, services_factory=lambda _token: fake_services)
    client = app.test_client()
    client.set_cookie("bp_session", "a-session-from-before-the-outage")
    return client


@pytest.mark.parametrize(
    "path", ["/ausbildungsverhaeltnisse/neu", "/abmelden"], ids=["register-form", "logout"]
)
def test_form_posts_answer_503_with_retry_after(
    unreachable: FlaskClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = unreachable.post(path, data={"csrf_token": "from-the-page", "first_name": "Jonas"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert "Dienst nicht erreichbar" in html
    assert "Der Dienst ist vorübergehend nicht erreichbar" in html
    assert "Das Formular ist abgelaufen" not in html
    assert '<html lang="de">' in html
    # One line that says what is wrong; no traceback per request.
    assert [r for r in caplog.records if r.exc_info] == []
    assert any("unavailable" in r.getMessage() for r in caplog.records)


def test_pages_answer_503_too_and_the_liveness_probe_stays_up(unreachable: FlaskClient) -> None:
    response = unreachable.get("/ausbildungsverhaeltnisse")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert unreachable.get("/healthz").status_code == 200

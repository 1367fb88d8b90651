"""Postfach (Entwicklung) shows every mail, reset links included: only ever on the developer's own machine."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask

from gateway.web.app import create_app
from gateway.web.config import WebSettings, is_loopback

MAIL_ID = "20261124T130300Z-reset"
NAV_LINK = '<a href="/postfach">Postfach (Entwicklung)</a>'


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mails"
    folder.mkdir()
    message = EmailMessage()
    message["From"] = "portal@ihk.example"
    message["To"] = "azubi@demo.example"
    message["Subject"] = "Neues Passwort vergeben"
    message["Date"] = "Tue, 24 Nov 2026 13:03:00 +0000"
    message.set_content("http://127.0.0.1:8080/auth/password/reset/geheimes-einmal-token")
    (folder / f"{MAIL_ID}.eml").write_bytes(bytes(message))
    return folder


def portal(web_settings: WebSettings, fake_services, mail_dir: Path, **changes: object) -> Flask:
    settings = replace(web_settings, mail_sink_dir=mail_dir, **changes)
    return create_app(settings, services_factory=lambda _token: fake_services)


@pytest.mark.parametrize("client_address", ["127.0.0.1", "::1", "127.8.9.10"])
def test_on_loopback_it_is_there_and_marked_as_a_development_aid(
    web_settings, fake_services, mail_dir, client_address: str
) -> None:
    client = portal(web_settings, fake_services, mail_dir).test_client()
    client.environ_base["REMOTE_ADDR"] = client_address
    listing = client.get("/postfach")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Nur für die Entwicklung" in html
    assert "nur auf diesem Rechner" in html
    assert NAV_LINK in client.get("/hilfe").get_data(as_text=True)
    mail = client.get(f"/postfach/{MAIL_ID}").get_data(as_text=True)
    assert "geheimes-einmal-token" in mail and "Nur für die Entwicklung" in mail


@pytest.mark.parametrize("listen_host", ["0.0.0.0", "::", "192.0.2.10", "portal.example"])  # noqa: S104
def test_refused_when_the_portal_listens_beyond_loopback(
    web_settings, fake_services, mail_dir, listen_host: str
) -> None:
    client = portal(web_settings, fake_services, mail_dir, listen_host=listen_host).test_client()
    assert client.get("/postfach").status_code == 404
    assert client.get(f"/postfach/{MAIL_ID}").status_code == 404
    assert "Postfach" not in client.get("/hilfe").get_data(as_text=True)


def test_the_listen_address_comes_from_bp_host(tmp_path: Path) -> None:
    env = {"BP_MAIL_SINK_DIR": str(tmp_path), "BP_DATA_DIR": str(tmp_path)}
    assert WebSettings.from_env(env).mailbox_dir == tmp_path
    assert WebSettings.from_env({**env, "BP_HOST": "0.0.0.0"}).mailbox_dir is None  # noqa: S104
    assert WebSettings.from_env({"BP_DATA_DIR": str(tmp_path)}).mailbox_dir is None


@pytest.mark.parametrize("client_address", ["192.0.2.7", "10.1.2.3", "2001:db8::1", "::ffff:192.0.2.7"])
def test_refused_for_clients_on_other_machines(
    web_settings, fake_services, mail_dir, client_address: str
) -> None:
    client = portal(web_settings, fake_services, mail_dir).test_client()
    client.environ_base["REMOTE_ADDR"] = client_address
    assert client.get("/postfach").status_code == 404
    assert client.get(f"/postfach/{MAIL_ID}").status_code == 404
    assert "Postfach" not in client.get("/hilfe").get_data(as_text=True)


def test_behind_a_proxy_the_forwarded_client_counts(web_settings, fake_services, mail_dir) -> None:
    client = portal(web_settings, fake_services, mail_dir, behind_proxy=True).test_client()
    # nginx on the same machine connects from loopback; the browser is elsewhere.
    assert client.get("/postfach", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    assert client.get("/postfach", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),  # noqa: S104
        ("", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

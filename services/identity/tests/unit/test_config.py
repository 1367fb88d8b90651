"""identity's settings come from the environment only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from chassis.config import MissingSecret, ServiceSettings
from identity.config import IdentityConfig


def config_from(env: dict[str, str], tmp_path: Path) -> IdentityConfig:
    env = {"BP_DATA_DIR": str(tmp_path), "BP_MODE": "embedded"} | env
    return IdentityConfig.from_settings(ServiceSettings.from_env("identity", env), env)


def test_defaults(tmp_path: Path) -> None:
    config = config_from({}, tmp_path)
    assert config.lockout.threshold == 5
    assert config.lockout.duration == timedelta(hours=24)
    assert config.activation_valid_for == timedelta(days=30)
    assert config.password_reset_valid_for == timedelta(minutes=60)
    assert config.access_token_lifetime == 300
    assert config.web_client.client_id == "portal-web"
    # The embedded mode generates the client secret once and keeps it (no secret in the code).
    assert len(config.web_client.client_secret) >= 32
    assert config_from({}, tmp_path).web_client.client_secret == config.web_client.client_secret
    assert config.web_client.redirect_uri == "http://127.0.0.1:8080/oidc/callback"
    assert config.web_client.post_logout_redirect_uri == "http://127.0.0.1:8080/"


def test_overrides(tmp_path: Path) -> None:
    config = config_from(
        {
            "IDENTITY_LOCKOUT_THRESHOLD": "3",
            "IDENTITY_LOCKOUT_HOURS": "1",
            "IDENTITY_ACTIVATION_DAYS": "7",
            "IDENTITY_PASSWORD_RESET_MINUTES": "15",
            "BP_PUBLIC_URL": "https://portal.example/",
            "BP_WEB_CLIENT_ID": "web",
            "BP_WEB_CLIENT_SECRET": "s3cr3t-from-the-vault",
        },
        tmp_path,
    )
    assert config.lockout.threshold == 3
    assert config.lockout.duration == timedelta(hours=1)
    assert config.activation_valid_for == timedelta(days=7)
    assert config.password_reset_valid_for == timedelta(minutes=15)
    assert config.web_client.client_id == "web"
    assert config.web_client.client_secret == "s3cr3t-from-the-vault"
    assert config.web_client.redirect_uri == "https://portal.example/oidc/callback"


def test_outside_the_embedded_mode_a_missing_client_secret_stops_the_start(tmp_path: Path) -> None:
    config = config_from({"BP_MODE": "distributed"}, tmp_path)  # the worker, which registers no client
    with pytest.raises(MissingSecret, match=r"^BP_WEB_CLIENT_SECRET is not set"):
        _ = config.web_client.client_secret  # the app, migrate and seed register the client
    assert not (tmp_path / "secrets").exists()

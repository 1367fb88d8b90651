"""The web app's settings, from the environment only (DESIGN §2 rule 7)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chassis.config import data_dir, env_bool, env_float


@dataclass(frozen=True)
class WebSettings:
    public_url: str
    issuer: str
    client_id: str
    client_secret: str
    api_base_url: str
    database_url: str
    secret_key: str
    mail_sink_dir: Path | None
    behind_proxy: bool
    api_timeout: float = 10.0
    # Where this server reaches identity itself when the public issuer URL is not
    # reachable from inside (containers): discovery, token, userinfo, revocation, JWKS.
    oidc_internal_url: str | None = None
    oidc_scope: str = "openid profile email"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/oidc/callback"

    @property
    def secure_cookies(self) -> bool:
        # Secure cookies everywhere but on plain-HTTP local development.
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        public_url = env.get("BP_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/")
        sink = env.get("BP_MAIL_SINK_DIR", "").strip()
        return cls(
            public_url=public_url,
            issuer=env.get("BP_ISSUER", f"{public_url}/auth").rstrip("/"),
            client_id=env.get("BP_WEB_CLIENT_ID", "portal-web"),
            client_secret=env.get("BP_WEB_CLIENT_SECRET", "dev-portal-web-secret"),
            api_base_url=env.get("BP_API_BASE_URL", public_url).rstrip("/"),
            database_url=env.get("WEB_DATABASE_URL") or f"sqlite:///{data_dir(env) / 'web.db'}",
            secret_key=env.get("WEB_SECRET_KEY", ""),
            mail_sink_dir=Path(sink) if sink else None,
            behind_proxy=env_bool(env, "BP_BEHIND_PROXY", False),
            api_timeout=env_float(env, "WEB_API_TIMEOUT", 10.0),
            oidc_internal_url=(env.get("BP_OIDC_INTERNAL_URL") or "").rstrip("/") or None,
        )

"""The web app's settings, from the environment only (DESIGN §2 rule 7)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chassis.config import DISTRIBUTED, data_dir, env_bool, env_float, run_mode

DEFAULT_CUTOFF = date(2018, 2, 1)


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
    # Where the portal listens (the embedded mode's BP_HOST). The development
    # mailbox exists only while this is a loopback address.
    listen_host: str = "127.0.0.1"
    # Contracts registered before this day got their Eintragungsbestätigung on paper
    # (documents' DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF; the same default).
    digital_confirmation_cutoff: date = DEFAULT_CUTOFF
    # BP_MODE and BP_DATA_DIR: what the secrets policy goes by (chassis.config.require_secret).
    mode: str = DISTRIBUTED
    data_dir: Path = Path("var")

    @property
    def mailbox_dir(self) -> Path | None:
        """The mail sink's folder for "Postfach (Entwicklung)", or None where there must be none.

        The page shows every mail the portal sent, reset and activation links
        included, to whoever opens it. So it exists only on a developer's
        machine: a sink folder is configured and the portal listens on loopback
        only (each request must come from loopback too, see ``views.mailbox``).
        """
        return self.mail_sink_dir if is_loopback(self.listen_host) else None

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
            client_secret=env.get("BP_WEB_CLIENT_SECRET", ""),
            api_base_url=env.get("BP_API_BASE_URL", public_url).rstrip("/"),
            database_url=env.get("WEB_DATABASE_URL") or f"sqlite:///{data_dir(env) / 'web.db'}",
            secret_key=env.get("WEB_SECRET_KEY", ""),
            mail_sink_dir=Path(sink) if sink else None,
            behind_proxy=env_bool(env, "BP_BEHIND_PROXY", False),
            api_timeout=env_float(env, "WEB_API_TIMEOUT", 10.0),
            oidc_internal_url=(env.get("BP_OIDC_INTERNAL_URL") or "").rstrip("/") or None,
            listen_host=env.get("BP_HOST", "127.0.0.1").strip(),
            digital_confirmation_cutoff=_cutoff(env),
            mode=run_mode(env),
            data_dir=data_dir(env),
        )


def _cutoff(env: Mapping[str, str]) -> date:
    raw = env.get("WEB_DIGITAL_CONFIRMATION_CUTOFF") or env.get("DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF") or ""
    raw = raw.strip()
    try:
        return date.fromisoformat(raw) if raw else DEFAULT_CUTOFF
    except ValueError:
        raise ValueError(
            f"the digital confirmation cutoff must be a date like 2018-02-01, not {raw!r}"
        ) from None


def is_loopback(host: str | None) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``; not ``0.0.0.0``, ``::``, a name or any other address."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback

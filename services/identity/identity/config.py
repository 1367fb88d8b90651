"""Settings of identity: the chassis' ServiceSettings plus identity's own ``IDENTITY_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from chassis.config import RunContext, ServiceSettings, require_secret
from identity.domain.model import LockoutPolicy

SERVICE_NAME = "identity"


def settings(env: Mapping[str, str] | None = None) -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE_NAME, env)


@dataclass(frozen=True)
class WebClientConfig:
    """The browser UI (gateway/web) as OIDC client: a confidential client."""

    client_id: str
    # BP_WEB_CLIENT_SECRET as set ("" if not): read through ``client_secret``.
    configured_secret: str = field(repr=False)
    redirect_uri: str
    post_logout_redirect_uri: str
    secrets: RunContext
    scope: str = "openid profile email"

    @property
    def client_secret(self) -> str:
        """By chassis' secrets policy (generated only in the embedded mode, else required).

        Needed only where the client is registered (the app, migrate and seed), so
        identity's worker runs without it.
        """
        return require_secret("BP_WEB_CLIENT_SECRET", self.configured_secret, self.secrets)


@dataclass(frozen=True)
class Argon2Parameters:
    """argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


@dataclass(frozen=True)
class IdentityConfig:
    lockout: LockoutPolicy
    argon2: Argon2Parameters
    activation_valid_for: timedelta
    password_reset_valid_for: timedelta
    access_token_lifetime: int  # seconds
    refresh_token_lifetime: int  # seconds
    authorization_code_lifetime: int  # seconds
    login_session_lifetime: timedelta
    signing_key_file: str | None
    web_client: WebClientConfig

    @classmethod
    def from_settings(cls, settings: ServiceSettings, env: Mapping[str, str] | None = None) -> IdentityConfig:
        env = os.environ if env is None else env
        extra = settings.extra

        def number(name: str, default: int) -> int:
            raw = extra.get(name, "")
            return int(raw) if raw.strip() else default

        public = settings.public_url
        return cls(
            lockout=LockoutPolicy(
                threshold=number("LOCKOUT_THRESHOLD", 5),
                duration=timedelta(hours=number("LOCKOUT_HOURS", 24)),
            ),
            argon2=Argon2Parameters(
                time_cost=number("ARGON2_TIME_COST", 3),
                memory_kib=number("ARGON2_MEMORY_KIB", 65536),
                parallelism=number("ARGON2_PARALLELISM", 4),
            ),
            activation_valid_for=timedelta(days=number("ACTIVATION_DAYS", 30)),
            password_reset_valid_for=timedelta(minutes=number("PASSWORD_RESET_MINUTES", 60)),
            access_token_lifetime=number("ACCESS_TOKEN_SECONDS", 300),
            refresh_token_lifetime=number("REFRESH_TOKEN_HOURS", 8) * 3600,
            authorization_code_lifetime=number("AUTHORIZATION_CODE_SECONDS", 300),
            login_session_lifetime=timedelta(hours=number("LOGIN_SESSION_HOURS", 8)),
            signing_key_file=extra.get("SIGNING_KEY_FILE") or None,
            web_client=WebClientConfig(
                client_id=env.get("BP_WEB_CLIENT_ID", "portal-web"),
                configured_secret=env.get("BP_WEB_CLIENT_SECRET", ""),
                redirect_uri=f"{public}/oidc/callback",
                post_logout_redirect_uri=f"{public}/",
                secrets=settings,
            ),
        )

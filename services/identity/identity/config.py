"""Settings of identity: the chassis' ServiceSettings plus identity's own ``IDENTITY_*`` variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from chassis.config import ConfigurationError, RunContext, ServiceSettings, env_bool, require_secret
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
    secrets: RunContext = field(repr=False)  # the settings, whose repr shows every IDENTITY_* variable
    scope: str = "openid profile email"

    @property
    def client_secret(self) -> str:
        """By chassis' secrets policy (generated only in the embedded mode, else required).

        Needed only where the client is registered (the app, migrate and seed), so
        identity's worker runs without it.
        """
        return require_secret("BP_WEB_CLIENT_SECRET", self.configured_secret, self.secrets)


CODE_HASH_KEY = "IDENTITY_CODE_HASH_KEY"
CODE_HASH_PREVIOUS_KEYS = "IDENTITY_CODE_HASH_PREVIOUS_KEYS"
# A key shorter than this would be guessable, and with it every code in a leaked database.
MIN_CODE_HASH_KEY_LENGTH = 32


@dataclass(frozen=True)
class CodeHashConfig:
    """The keyed hash of activation codes (HMAC-SHA256, see ``identity.adapters.codes``)."""

    # IDENTITY_CODE_HASH_KEY as set ("" if not): read through ``keys()``.
    configured_key: str = field(repr=False)
    # IDENTITY_CODE_HASH_PREVIOUS_KEYS: keys rotated out, still accepted for verifying.
    previous_keys: tuple[str, ...] = field(repr=False)
    # IDENTITY_ACCEPT_ARGON2_CODES: codes hashed with argon2id before the keyed hash still verify.
    accept_argon2: bool
    secrets: RunContext = field(repr=False)  # the settings, whose repr shows every IDENTITY_* variable

    def keys(self) -> tuple[str, tuple[str, ...]]:
        """The current key (by chassis' secrets policy: generated only in the embedded mode,
        else required) and the previous ones; each long enough."""
        key = require_secret(CODE_HASH_KEY, self.configured_key, self.secrets)
        for name, value in (
            (CODE_HASH_KEY, key),
            *((CODE_HASH_PREVIOUS_KEYS, k) for k in self.previous_keys),
        ):
            if len(value) < MIN_CODE_HASH_KEY_LENGTH:
                raise ConfigurationError(
                    f"{name}: a key has fewer than {MIN_CODE_HASH_KEY_LENGTH} characters "
                    "(e.g. openssl rand -hex 32)"
                )
        return key, self.previous_keys


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
    registration_valid_for: timedelta
    invitation_valid_for: timedelta
    company_code_valid_for: timedelta
    access_token_lifetime: int  # seconds
    refresh_token_lifetime: int  # seconds
    authorization_code_lifetime: int  # seconds
    login_session_lifetime: timedelta
    signing_key_file: str | None
    # A new signing key is in the JWKS this long before it signs (longer than any JWKS cache).
    signing_key_publish_lead: timedelta
    # The key-rotation worker replaces a signing key this old (0: only ``bp-identity rotate-keys``).
    signing_key_rotation_days: int
    web_client: WebClientConfig
    code_hash: CodeHashConfig

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
            registration_valid_for=timedelta(hours=number("REGISTRATION_HOURS", 24)),
            invitation_valid_for=timedelta(days=number("INVITATION_DAYS", 7)),
            company_code_valid_for=timedelta(days=number("COMPANY_CODE_DAYS", 90)),
            access_token_lifetime=number("ACCESS_TOKEN_SECONDS", 300),
            refresh_token_lifetime=number("REFRESH_TOKEN_HOURS", 8) * 3600,
            authorization_code_lifetime=number("AUTHORIZATION_CODE_SECONDS", 300),
            login_session_lifetime=timedelta(hours=number("LOGIN_SESSION_HOURS", 8)),
            signing_key_file=extra.get("SIGNING_KEY_FILE") or None,
            signing_key_publish_lead=timedelta(minutes=number("SIGNING_KEY_PUBLISH_MINUTES", 15)),
            signing_key_rotation_days=number("SIGNING_KEY_ROTATION_DAYS", 90),
            web_client=WebClientConfig(
                client_id=env.get("BP_WEB_CLIENT_ID", "portal-web"),
                configured_secret=env.get("BP_WEB_CLIENT_SECRET", ""),
                redirect_uri=f"{public}/oidc/callback",
                post_logout_redirect_uri=f"{public}/",
                secrets=settings,
            ),
            code_hash=CodeHashConfig(
                configured_key=extra.get("CODE_HASH_KEY", ""),
                # Separated by commas or white space (generated keys contain neither).
                previous_keys=tuple(extra.get("CODE_HASH_PREVIOUS_KEYS", "").replace(",", " ").split()),
                accept_argon2=env_bool(extra, "ACCEPT_ARGON2_CODES", True),
                secrets=settings,
            ),
        )

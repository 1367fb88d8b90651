"""OAuth clients, authorization codes and tokens as authlib's model mixins.

Mapped imperatively onto identity's tables (adapters/orm.py). Codes and tokens
are kept only as SHA-256 hashes: they are long random strings, so a hash
suffices to make a database leak useless for replay.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class OAuthClient(ClientMixin):
    client_id: str
    secret_hash: str
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scope: str
    grant_types: list[str]
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
    updated_at: datetime | None = None

    @property
    def client_metadata(self) -> dict[str, Any]:
        # No signed userinfo or other registration metadata: plain JSON responses.
        return {}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # None: every authorization request must name its redirect URI (OpenID Connect
        # Core 3.1.2.1). Without one, authlib answers invalid_request without
        # redirecting, and /authorize shows the error to the person.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact match only (RFC 9700 §2.1).
        return redirect_uri in self.redirect_uris

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        return uri in self.post_logout_redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, sha256(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Confidential client: basic or post at token and revocation endpoints.
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code_hash: str
    client_id: str
    account_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: int
    expires_at: datetime

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass
class Token(TokenMixin):
    id: str
    family_id: str
    client_id: str
    account_id: str
    scope: str
    access_token_hash: str
    access_expires_at: datetime
    issued_at: datetime
    refresh_token_hash: str | None = None
    refresh_expires_at: datetime | None = None
    access_revoked_at: datetime | None = None
    refresh_revoked_at: datetime | None = None
    # SHA-256 of the authorization code this family was issued for (its first token only).
    authorization_code_hash: str | None = field(default=None, repr=False)
    # Not stored: filled in for authlib's ``get_user`` / ``get_client``.
    user: Any = field(default=None, repr=False)
    client: OAuthClient | None = field(default=None, repr=False)
    # Not stored: which of its strings a revocation request presented, "access" or "refresh".
    matched: str = ""

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.access_expires_at.timestamp() - time.time()))

    def is_expired(self) -> bool:
        return datetime.now(UTC) >= self.access_expires_at

    def is_revoked(self) -> bool:
        return self.access_revoked_at is not None

    def get_user(self) -> Any:
        return self.user

    def get_client(self) -> OAuthClient | None:
        return self.client

    def refresh_usable(self, now: datetime) -> bool:
        return (
            self.refresh_revoked_at is None
            and self.refresh_expires_at is not None
            and now < self.refresh_expires_at
        )

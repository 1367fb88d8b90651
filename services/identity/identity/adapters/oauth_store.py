"""Storage of OAuth clients, authorization codes and tokens, as authlib's model mixins.

Codes and tokens are stored only as SHA-256 hashes: they are long random
strings, so a hash suffices to make a database leak useless for replay.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy.orm import Session

from identity.adapters.orm import authorization_codes, oauth_clients, oauth_tokens
from identity.adapters.repository import as_utc


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

    @property
    def client_metadata(self) -> dict[str, Any]:
        # No signed userinfo or other registration metadata: plain JSON responses.
        return {}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

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
    # Filled in by the store for authlib's ``get_user`` / ``get_client``.
    user: Any = field(default=None, repr=False)
    client: OAuthClient | None = field(default=None, repr=False)
    # Which of its strings a revocation request presented: "access" or "refresh".
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


class OAuthStore:
    """Clients, codes and tokens in identity's database, bound to one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- clients -------------------------------------------------------------------------
    def client(self, client_id: str) -> OAuthClient | None:
        row = self.session.execute(
            sa.select(oauth_clients).where(oauth_clients.c.client_id == client_id)
        ).first()
        if row is None:
            return None
        m = dict(row._mapping)
        m.pop("updated_at")
        return OAuthClient(**m)

    def upsert_client(self, client: OAuthClient, now: datetime) -> None:
        values = {
            "secret_hash": client.secret_hash,
            "name": client.name,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "scope": client.scope,
            "grant_types": client.grant_types,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "updated_at": now,
        }
        updated = self.session.execute(
            sa.update(oauth_clients).where(oauth_clients.c.client_id == client.client_id).values(**values)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(sa.insert(oauth_clients).values(client_id=client.client_id, **values))

    # -- authorization codes ---------------------------------------------------------------
    def add_code(self, code: AuthorizationCode) -> None:
        values = {column.name: getattr(code, column.name) for column in authorization_codes.c}
        self.session.execute(sa.insert(authorization_codes).values(**values))

    def code(self, plain_code: str, client_id: str) -> AuthorizationCode | None:
        row = self.session.execute(
            sa.select(authorization_codes).where(
                authorization_codes.c.code_hash == sha256(plain_code),
                authorization_codes.c.client_id == client_id,
            )
        ).first()
        if row is None:
            return None
        m = dict(row._mapping)
        m["expires_at"] = as_utc(m["expires_at"])
        return AuthorizationCode(**m)

    def consume_code(self, code: AuthorizationCode) -> bool:
        """Delete the code; False if another request consumed it first (one-time use)."""
        deleted = self.session.execute(
            sa.delete(authorization_codes).where(authorization_codes.c.code_hash == code.code_hash)
        )
        return deleted.rowcount == 1  # type: ignore[attr-defined]

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        row = self.session.execute(
            sa.select(authorization_codes.c.code_hash).where(
                authorization_codes.c.client_id == client_id, authorization_codes.c.nonce == nonce
            )
        ).first()
        return row is not None

    def delete_expired_codes(self, now: datetime) -> None:
        self.session.execute(sa.delete(authorization_codes).where(authorization_codes.c.expires_at < now))

    # -- tokens ------------------------------------------------------------------------------
    def add_token(
        self,
        *,
        family_id: str | None,
        client_id: str,
        account_id: str,
        scope: str,
        access_token: str,
        access_lifetime: int,
        refresh_token: str | None,
        refresh_lifetime: int,
        now: datetime,
    ) -> str:
        token_id = str(uuid.uuid4())
        self.session.execute(
            sa.insert(oauth_tokens).values(
                id=token_id,
                family_id=family_id or token_id,
                client_id=client_id,
                account_id=account_id,
                scope=scope,
                access_token_hash=sha256(access_token),
                access_expires_at=now + timedelta(seconds=access_lifetime),
                refresh_token_hash=sha256(refresh_token) if refresh_token else None,
                refresh_expires_at=now + timedelta(seconds=refresh_lifetime) if refresh_token else None,
                issued_at=now,
            )
        )
        return token_id

    def _token(self, condition: sa.ColumnElement[bool]) -> Token | None:
        row = self.session.execute(sa.select(oauth_tokens).where(condition)).first()
        if row is None:
            return None
        m = {k: as_utc(v) for k, v in row._mapping.items()}
        return Token(**m)

    def by_access_token(self, access_token: str) -> Token | None:
        return self._token(oauth_tokens.c.access_token_hash == sha256(access_token))

    def by_refresh_token(self, refresh_token: str) -> Token | None:
        return self._token(oauth_tokens.c.refresh_token_hash == sha256(refresh_token))

    def rotate_refresh_token(self, token: Token, now: datetime) -> bool:
        """Mark a refresh token used; False if a concurrent request already rotated it."""
        updated = self.session.execute(
            sa.update(oauth_tokens)
            .where(oauth_tokens.c.id == token.id, oauth_tokens.c.refresh_revoked_at.is_(None))
            .values(refresh_revoked_at=now)
        )
        return updated.rowcount == 1  # type: ignore[attr-defined]

    def revoke(self, token: Token, now: datetime, *, refresh: bool) -> None:
        values: dict[str, Any] = {
            "access_revoked_at": sa.func.coalesce(oauth_tokens.c.access_revoked_at, now)
        }
        if refresh:
            values["refresh_revoked_at"] = sa.func.coalesce(oauth_tokens.c.refresh_revoked_at, now)
        self.session.execute(sa.update(oauth_tokens).where(oauth_tokens.c.id == token.id).values(**values))

    def revoke_family(self, family_id: str, now: datetime) -> None:
        self.session.execute(
            sa.update(oauth_tokens)
            .where(oauth_tokens.c.family_id == family_id)
            .values(
                access_revoked_at=sa.func.coalesce(oauth_tokens.c.access_revoked_at, now),
                refresh_revoked_at=sa.func.coalesce(oauth_tokens.c.refresh_revoked_at, now),
            )
        )

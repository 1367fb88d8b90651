"""OAuth clients, authorization codes and tokens in identity's database, bound to the
unit of work's session (``uow.oauth``) like every repository.

The classes are authlib's model mixins (adapters/oauth_models.py), mapped in
adapters/orm.py. Where two requests may race (one-time codes, refresh-token
rotation) the write is one conditional statement whose row count decides.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from identity.adapters.oauth_models import AuthorizationCode, OAuthClient, Token, sha256
from identity.adapters.orm import authorization_codes, oauth_tokens


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


class OAuthStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- clients -------------------------------------------------------------------------
    def client(self, client_id: str) -> OAuthClient | None:
        return self.session.get(OAuthClient, client_id)

    def upsert_client(self, client: OAuthClient, now: datetime) -> None:
        """Register ``client``, or bring the registered one up to date."""
        stored = self.session.get(OAuthClient, client.client_id, with_for_update=True)
        client.updated_at = now
        if stored is None:
            self.session.add(client)
            return
        stored.secret_hash = client.secret_hash
        stored.name = client.name
        stored.redirect_uris = list(client.redirect_uris)
        stored.post_logout_redirect_uris = list(client.post_logout_redirect_uris)
        stored.scope = client.scope
        stored.grant_types = list(client.grant_types)
        stored.token_endpoint_auth_method = client.token_endpoint_auth_method
        stored.updated_at = now

    # -- authorization codes ---------------------------------------------------------------
    def add_code(self, code: AuthorizationCode) -> None:
        self.session.add(code)

    def code(self, plain_code: str, client_id: str) -> AuthorizationCode | None:
        found = self.session.get(AuthorizationCode, sha256(plain_code))
        return found if found is not None and found.client_id == client_id else None

    def consume_code(self, code_hash: str) -> bool:
        """Delete the code; False if another request consumed it first (one-time use)."""
        deleted = self.session.execute(
            sa.delete(authorization_codes).where(authorization_codes.c.code_hash == code_hash)
        )
        return _rowcount(deleted) == 1

    def nonce_used(self, client_id: str, nonce: str) -> bool:
        row = self.session.execute(
            sa.select(authorization_codes.c.code_hash).where(
                authorization_codes.c.client_id == client_id, authorization_codes.c.nonce == nonce
            )
        ).first()
        return row is not None

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
        authorization_code_hash: str | None = None,
    ) -> str:
        token_id = str(uuid.uuid4())
        self.session.add(
            Token(
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
                authorization_code_hash=authorization_code_hash,
            )
        )
        return token_id

    def _token(self, condition: sa.ColumnElement[bool]) -> Token | None:
        return self.session.scalars(sa.select(Token).where(condition)).first()

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
        return _rowcount(updated) == 1

    def revoke(self, token: Token, now: datetime, *, refresh: bool) -> None:
        values: dict[str, object] = {
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

    def revoke_grant_of_code(self, code_hash: str, now: datetime) -> bool:
        """Revoke every token issued from an authorization code, rotated ones included.

        For a code presented again (RFC 6749 §4.1.2). Returns whether the code had
        been exchanged at all. The access tokens are marked revoked here, which
        identity's own endpoints check; other services validate the JWTs by
        signature alone, so there an access token lives until its (short) expiry.
        """
        families = (
            self.session.execute(
                sa.select(oauth_tokens.c.family_id).where(oauth_tokens.c.authorization_code_hash == code_hash)
            )
            .scalars()
            .all()
        )
        for family_id in families:
            self.revoke_family(family_id, now)
        return bool(families)

    def revoke_account(self, account_id: uuid.UUID, now: datetime) -> None:
        """Revoke every token of an account (its password was replaced)."""
        self.session.execute(
            sa.update(oauth_tokens)
            .where(
                oauth_tokens.c.account_id == str(account_id),
                sa.or_(
                    oauth_tokens.c.access_revoked_at.is_(None), oauth_tokens.c.refresh_revoked_at.is_(None)
                ),
            )
            .values(
                access_revoked_at=sa.func.coalesce(oauth_tokens.c.access_revoked_at, now),
                refresh_revoked_at=sa.func.coalesce(oauth_tokens.c.refresh_revoked_at, now),
            )
        )

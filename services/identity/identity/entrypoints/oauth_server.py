"""The OpenID Connect provider, built from authlib's parts.

- authorization code grant with PKCE, S256 only; no implicit, no password grant;
- refresh-token rotation with reuse detection: a used refresh token is revoked,
  and presenting it again revokes every token of that grant;
- access tokens are RS256 JWTs (5 minutes) with the portal's claims; ID tokens per OIDC;
- revocation (RFC 7009) and userinfo behind a ResourceProtector.

The authorization server is built by ``build_app`` from the runtime's typed parts
(keys, settings, unit of work); its callbacks reach them with ``identity_runtime()``.
Every OAuth request runs in one unit of work (``request_uow``); the views commit
it only when authlib answered with success, so a failed exchange writes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core import grants as oidc_grants
from flask import Flask, current_app, g, request, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from chassis.app import current_runtime
from chassis.domain import DomainError
from identity.adapters.keys import ALGORITHM
from identity.adapters.oauth_models import AuthorizationCode, OAuthClient, Token, sha256
from identity.bootstrap import TOKEN_EXCHANGE_GRANT, IdentityRuntime
from identity.domain.grant_commands import ContextClaims, RecordContextSwitch
from identity.domain.model import Account, AccountStatus
from identity.service_layer import grants as grant_cases
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

SCOPES = ["openid", "profile", "email"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


SERVER_KEY = "identity_authorization_server"


def identity_runtime() -> IdentityRuntime:
    """The runtime the current app was built from."""
    return current_runtime(IdentityRuntime)


def issuer_url(endpoint: str, **values: Any) -> str:
    """An endpoint's public URL under the issuer, however this request reached us."""
    path = url_for(endpoint, **values)
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root) :]
    return identity_runtime().settings.issuer + path


def request_uow() -> IdentityUnitOfWork:
    """The unit of work of the current OAuth request, opened on first use."""
    uow = g.get("oauth_uow")
    if uow is None:
        uow = identity_runtime().uow_factory()
        uow.__enter__()
        g.oauth_uow = uow
    return uow


def close_request_uow(_exc: BaseException | None = None) -> None:
    uow = g.pop("oauth_uow", None)
    if uow is not None:
        uow.__exit__(None, None, None)


def signing_key() -> RSAKey:
    """The key that signs this request's tokens: taken once per request, so the header's
    ``kid`` and the signature agree even when the signing key changes meanwhile."""
    key = g.get("signing_key")
    if key is None:
        key = g.signing_key = identity_runtime().keys.signing_key
    return key


def _now() -> datetime:
    return datetime.now(UTC)


def usable_account(account_id: str) -> Account | None:
    """The token's or code's person, if they may still get tokens."""
    account = request_uow().accounts.get(uuid.UUID(account_id))
    if account is None or account.status is not AccountStatus.ACTIVE or account.is_locked_out(_now()):
        return None
    return account


def full_claims(account: Account) -> dict[str, Any]:
    """The login's claims of ``account``, read once per request: the token endpoint needs them
    twice (the access token and the ID token's user info), from the same transaction."""
    cached: dict[uuid.UUID, dict[str, Any]] = g.setdefault("full_claims", {})
    if account.id not in cached:
        cached[account.id] = grant_cases.full_token_claims(account, request_uow())
    return cached[account.id]


def user_info(account: Account, scope: str) -> UserInfo:
    scopes = set(scope.split())
    claims = full_claims(account)
    info = UserInfo(sub=claims["sub"])
    if "profile" in scopes:
        info["name"] = claims["name"]
        info["preferred_username"] = account.apprentice_number or account.username or account.email
        info["roles"] = claims["roles"]
        info["company_roles"] = claims["company_roles"]
        info["service_rights"] = claims["service_rights"]
        info["apprentice_number"] = claims["apprentice_number"]
    if "email" in scopes:
        info["email"] = claims["email"]
    return info


# -- access tokens ---------------------------------------------------------------------------
def make_access_token_generator(runtime: IdentityRuntime) -> Any:
    settings, ttl = runtime.settings, runtime.config.access_token_lifetime

    def generate(client: OAuthClient, grant_type: str, user: Account, scope: str) -> str:
        now = int(time.time())
        # A token exchange narrowed the claims to one context; every other grant carries all.
        subject_claims = g.get("exchange_claims") or full_claims(user)
        claims = {
            **subject_claims,
            "iss": settings.issuer,
            "aud": settings.audience,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "client_id": client.client_id,
            "scope": scope,
        }
        key = signing_key()
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    return generate


def save_token(token: dict[str, Any], request: Any) -> None:
    # A narrowed token joins the family of the token it was exchanged for: revoking the login's
    # grant (logout, reuse of a refresh token) revokes it too.
    previous: Token | None = getattr(request, "refresh_token", None) or getattr(
        request, "exchanged_from", None
    )
    code: AuthorizationCode | None = getattr(request, "authorization_code", None)
    request_uow().oauth.add_token(
        family_id=previous.family_id if previous else None,
        client_id=request.client.client_id,
        account_id=str(request.user.id),
        scope=token.get("scope", ""),
        access_token=token["access_token"],
        access_lifetime=int(token["expires_in"]),
        refresh_token=token.get("refresh_token"),
        refresh_lifetime=identity_runtime().config.refresh_token_lifetime,
        now=_now(),
        # Remembered so that a replay of the code can revoke what it was exchanged for.
        authorization_code_hash=code.code_hash if code is not None and previous is None else None,
    )


def query_client(client_id: str) -> OAuthClient | None:
    return request_uow().oauth.client(client_id)


# -- grants -------------------------------------------------------------------------------------
class S256CodeChallenge(CodeChallenge):
    """PKCE is mandatory and only S256 is accepted: no "plain", no default."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        lifetime = identity_runtime().config.authorization_code_lifetime
        data = request.payload.data
        request_uow().oauth.add_code(
            AuthorizationCode(
                code_hash=sha256(code),
                client_id=request.client.client_id,
                account_id=str(request.user.id),
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                auth_time=int(g.get("auth_time") or time.time()),
                expires_at=datetime.fromtimestamp(time.time() + lifetime, UTC),
            )
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        uow = request_uow()
        item = uow.oauth.code(code, client.client_id)
        if item is None:
            _revoke_if_replayed(uow, sha256(code))
            return None
        if item.is_expired(_now()):
            return None
        return item

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # A code works once: if a concurrent exchange consumed it, this one fails and
        # its tokens are never committed; and since the code was used twice, the
        # tokens of the exchange that won are revoked as well.
        uow = request_uow()
        code_hash = authorization_code.code_hash  # the rollback below expires loaded objects
        if not uow.oauth.consume_code(code_hash):
            uow.rollback()  # drop this request's own tokens first
            _revoke_if_replayed(uow, code_hash)
            raise InvalidGrantError("The authorization code was already used.")

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Account | None:
        return usable_account(authorization_code.account_id)


def _revoke_if_replayed(uow: IdentityUnitOfWork, code_hash: str) -> None:
    """A code that was already exchanged came back: revoke what it was exchanged for.

    RFC 6749 §4.1.2: the code leaked, or the client is confused; either way the
    tokens from its first exchange may be in the wrong hands. The revocation is
    committed at once (the request itself fails). The client authenticated before
    its code is looked at, so nobody can revoke others' tokens by guessing.
    """
    if uow.oauth.revoke_grant_of_code(code_hash, _now()):
        log.warning("replay of an exchanged authorization code; its tokens are revoked")
        uow.commit()


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        uow = request_uow()
        token = uow.oauth.by_refresh_token(refresh_token)
        if token is None:
            return None
        now = _now()
        if token.refresh_revoked_at is not None:
            # A rotated token came back: it leaked, or the client is confused.
            # Either way, end the whole grant (RFC 9700 §4.14.2).
            log.warning("reuse of a rotated refresh token; revoking token family %s", token.family_id)
            uow.oauth.revoke_family(token.family_id, now)
            uow.commit()
            return None
        return token if token.refresh_usable(now) else None

    def authenticate_user(self, refresh_token: Token) -> Account | None:
        return usable_account(refresh_token.account_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        uow = request_uow()
        now = _now()
        if not uow.oauth.rotate_refresh_token(refresh_token, now):
            raise InvalidGrantError("The refresh token was already used.")
        uow.oauth.revoke(refresh_token, now, refresh=True)


class OpenIDCode(oidc_grants.OpenIDCode):
    def exists_nonce(self, nonce: str, request: Any) -> bool:
        if request.user is None:
            # Nobody is logged in yet: /authorize only sends the person to the login page, and
            # comes back here with the same request afterwards, where the nonce is checked
            # before a code is issued. Checking it now as well would be a query more per login.
            return False
        return request_uow().oauth.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: OAuthClient) -> Any:
        return signing_key()

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return ALGORITHM

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": str(signing_key().kid)}

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        runtime = identity_runtime()
        return {
            "iss": runtime.settings.issuer,
            "aud": [client.client_id],
            "exp": int(time.time()) + runtime.config.access_token_lifetime,
        }

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return user_info(user, scope)


ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a type URI


def decode_own_token(token_string: str) -> dict[str, Any] | None:
    """The claims of an access token identity signed and that has not expired; None otherwise."""
    runtime = identity_runtime()
    try:
        decoded = jwt.decode(token_string, runtime.keys.public_key_set(), algorithms=[ALGORITHM])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": runtime.settings.issuer}, exp={"essential": True}
        ).validate(decoded.claims)
    except (JoseError, ValueError):
        return None
    return dict(decoded.claims)


class TokenExchangeGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    """RFC 8693 token exchange: the portal trades the login's access token for one narrowed to
    one context (``context``: ``company:<number>``, ``role:<role>`` or ``deputy:<id>``).

    Only the client the subject token was issued to may exchange it, only a login token (not a
    narrowed one: no chains), and only for a context the account holds now. The answer is an
    access token without a refresh token; the portal exchanges again when it expires.
    """

    GRANT_TYPE = TOKEN_EXCHANGE_GRANT
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("The client may not exchange tokens.")
        data = self.request.payload.data
        if data.get("subject_token_type") != ACCESS_TOKEN_TYPE or not data.get("subject_token"):
            raise InvalidRequestError("subject_token and subject_token_type (access_token) are required.")
        requested = data.get("requested_token_type")
        if requested not in (None, ACCESS_TOKEN_TYPE):
            raise InvalidRequestError("Only access tokens are issued.")
        context = str(data.get("context") or "")
        if not context:
            raise InvalidRequestError("context is required.")
        subject_token = str(data["subject_token"])
        claims = decode_own_token(subject_token)
        stored = request_uow().oauth.by_access_token(subject_token)
        if (
            claims is None
            or stored is None
            or stored.is_revoked()
            or stored.client_id != client.client_id
            or "act" in claims
            or "ctx" in claims
            or claims.get("sub") != stored.account_id
        ):
            raise InvalidGrantError("The subject token cannot be exchanged.")
        user = usable_account(stored.account_id)
        if user is None:
            raise InvalidGrantError("The subject token cannot be exchanged.")
        try:
            narrowed = identity_runtime().bus.handle(ContextClaims(user.id, context))
        except DomainError as exc:
            raise InvalidGrantError("The account cannot act in this context.") from exc
        g.exchange_claims = narrowed
        self.request.client = client
        self.request.user = user
        self.request.exchanged_from = stored
        self.request.context = context

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(
            user=self.request.user, scope=self.request.exchanged_from.scope, include_refresh_token=False
        )
        token["issued_token_type"] = ACCESS_TOKEN_TYPE
        self.save_token(token)
        grant_cases.audit_context_switch(
            request_uow(),
            RecordContextSwitch(self.request.user.id, self.request.context, self.request.client.client_id),
        )
        return 200, token, self.TOKEN_RESPONSE_HEADER


# -- userinfo and revocation ----------------------------------------------------------------------
class AccessTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> Token | None:
        if decode_own_token(token_string) is None:
            return None
        uow = request_uow()
        token = uow.oauth.by_access_token(token_string)
        if token is not None:
            token.user = uow.accounts.get(uuid.UUID(token.account_id))
            token.client = uow.oauth.client(token.client_id)
        return token


class IdentityUserInfoEndpoint(UserInfoEndpoint):
    def get_issuer(self) -> str:
        return identity_runtime().settings.issuer

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return user_info(user, scope)

    def resolve_private_key(self) -> Any:
        return signing_key()


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        store = request_uow().oauth
        if token_type_hint != "refresh_token":  # noqa: S105 - a hint name, not a secret
            token = store.by_access_token(token_string)
            if token is not None:
                token.matched = "access"
                # A narrowed token's context, so that leaving it (acting for someone) is audited.
                token.context = (decode_own_token(token_string) or {}).get("ctx")
                return token
        token = store.by_refresh_token(token_string)
        if token is not None:
            token.matched = "refresh"
        return token

    def revoke_token(self, token: Token, request: Any) -> None:
        store = request_uow().oauth
        if token.matched == "refresh":
            # Revoking a refresh token ends the grant, with the access tokens it made.
            store.revoke_family(token.family_id, _now())
        else:
            store.revoke(token, _now(), refresh=False)
            context = getattr(token, "context", None)
            if context:
                grant_cases.audit_context_switch(
                    request_uow(),
                    RecordContextSwitch(
                        uuid.UUID(token.account_id), str(context), token.client_id, ended=True
                    ),
                )


# -- assembly ---------------------------------------------------------------------------------------
def build_authorization_server(app: Flask, runtime: IdentityRuntime) -> AuthorizationServer:
    """authlib's server for ``app``, from the runtime's parts; views find it with ``authorization_server()``."""
    app.teardown_request(close_request_uow)
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.scopes_supported = SCOPES
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=make_access_token_generator(runtime),
            refresh_token_generator=lambda **_: generate_token(48),
            expires_generator=lambda client, grant_type: runtime.config.access_token_lifetime,
        ),
    )
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCode()])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(TokenExchangeGrant)
    server.register_endpoint(RevocationEndpoint)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(IdentityUserInfoEndpoint(resource_protector=protector))
    app.extensions[SERVER_KEY] = server
    return server


def authorization_server() -> AuthorizationServer:
    server: AuthorizationServer = current_app.extensions[SERVER_KEY]
    return server

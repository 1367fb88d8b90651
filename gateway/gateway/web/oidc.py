"""The portal's OpenID Connect client (authorization code + PKCE S256, nonce, state).

authlib's Flask client runs the browser flow and verifies the ID token; the
refresh and revocation calls use authlib's requests client with the same
client credentials and the provider's metadata.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from werkzeug.wrappers import Response

from gateway.web.config import WebSettings
from gateway.web.tokens import TokenSet

log = logging.getLogger(__name__)

# Claims that drive the navigation; identity may put them in the ID token or
# only into userinfo, so both are read.
PORTAL_CLAIMS = (
    "name",
    "email",
    "roles",
    "company_roles",
    "service_rights",
    "reach",
    "apprentice_number",
    # Set on a token narrowed to one context, or acting for someone (RFC 8693).
    "ctx",
    "act",
    "acting_for",
)
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a grant type URI
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a type URI


# Endpoints this server calls itself; the browser-facing ones (authorization,
# end session) keep their public URLs.
BACK_CHANNEL_ENDPOINTS = ("token_endpoint", "userinfo_endpoint", "revocation_endpoint", "jwks_uri")


def back_channel_metadata(metadata: Mapping[str, Any], issuer: str, internal_url: str) -> dict[str, Any]:
    """The provider's metadata with its back-channel endpoints moved to the internal URL."""
    rewritten = dict(metadata)
    for key in BACK_CHANNEL_ENDPOINTS:
        value = metadata.get(key)
        if isinstance(value, str) and value.startswith(issuer + "/"):
            rewritten[key] = internal_url + value[len(issuer) :]
    return rewritten


class _PortalOAuthApp(FlaskOAuth2App):
    """authlib's Flask client, reaching identity over an internal URL where one is set."""

    internal_url: str | None = None
    public_issuer: str = ""

    def load_server_metadata(self) -> dict[str, Any]:
        fresh = "_loaded_at" not in self.server_metadata
        metadata = super().load_server_metadata()
        if fresh and self.internal_url and "_loaded_at" in metadata:
            metadata.update(back_channel_metadata(metadata, self.public_issuer, self.internal_url))
        return metadata


class _PortalOAuth(OAuth):
    oauth2_client_cls = _PortalOAuthApp


class TokenRefreshFailed(Exception):
    """The refresh token is no longer accepted: the user must log in again."""


class OidcClient:
    def __init__(self, app: Flask, settings: WebSettings) -> None:
        self.settings = settings
        self.oauth = _PortalOAuth(app)
        discovery_base = settings.oidc_internal_url or settings.issuer
        self.provider = self.oauth.register(
            name="portal",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=f"{discovery_base}/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.oidc_scope,
                "code_challenge_method": "S256",
                "default_timeout": 10,
            },
        )
        self.provider.internal_url = settings.oidc_internal_url
        self.provider.public_issuer = settings.issuer

    def metadata(self) -> Mapping[str, Any]:
        return self.provider.load_server_metadata()

    def login_redirect(self) -> Response:
        # authlib creates state, nonce and the PKCE verifier and keeps them in
        # the (server-side) session until the callback.
        return self.provider.authorize_redirect(self.settings.redirect_uri)

    def finish_login(self) -> TokenSet:
        """Exchange the code (state, PKCE and nonce checked) for a token set."""
        token = self.provider.authorize_access_token()
        id_claims = token.get("userinfo")
        if not id_claims:
            raise ValueError("the provider returned no verifiable ID token")
        claims = dict(id_claims)
        if not all(name in claims for name in ("roles", "company_roles")):
            claims.update(self._userinfo(token["access_token"]))
        return TokenSet.from_token_response(token, _portal_claims(claims))

    def refresh(self, current: TokenSet) -> TokenSet:
        if not current.refresh_token:
            raise TokenRefreshFailed("no refresh token")
        with self._session() as session:
            try:
                token = session.refresh_token(
                    self.metadata()["token_endpoint"], refresh_token=current.refresh_token
                )
            except OAuthError as exc:
                # invalid_grant & co.: the refresh token is spent, revoked or expired.
                # Transport errors and 5xx propagate (requests exceptions): "unavailable".
                raise TokenRefreshFailed(exc.error or "oauth error") from exc
        # The grants as they are now: a role granted or revoked since the login shows with the
        # next refresh (within the access token's 5 minutes).
        fresh = access_token_claims(token["access_token"])
        claims = {**current.claims, **fresh} if fresh else dict(current.claims)
        for name in ("reach", "service_rights"):
            if fresh and name not in fresh:
                claims.pop(name, None)
        # Rotation: the response carries the new refresh token; an omitted one
        # means the provider kept the old one valid.
        refreshed = TokenSet.from_token_response(
            {
                **token,
                "refresh_token": token.get("refresh_token") or current.refresh_token,
                "id_token": token.get("id_token") or current.id_token,
            },
            claims,
            token_set_id=current.id,
        )
        return refreshed

    def exchange(self, login: TokenSet, context: str, *, token_set_id: str | None = None) -> TokenSet:
        """Trade the login's access token for one narrowed to ``context`` (RFC 8693 token
        exchange at identity): the services then see only what that context may do, and a
        deputy's token names them in ``act``. Raises ``TokenRefreshFailed`` when identity
        refuses (the context is no longer held, or the deputyship ended)."""
        with self._session() as session:
            response = session.post(
                self.metadata()["token_endpoint"],
                data={
                    "grant_type": TOKEN_EXCHANGE,
                    "subject_token": login.access_token,
                    "subject_token_type": ACCESS_TOKEN_TYPE,
                    "requested_token_type": ACCESS_TOKEN_TYPE,
                    "context": context,
                },
                auth=(self.settings.client_id, self.settings.client_secret),
                withhold_token=True,
            )
        if response.status_code == 400:
            raise TokenRefreshFailed("exchange refused")
        response.raise_for_status()  # 5xx: requests' HTTPError, "unavailable"
        token = dict(response.json())
        claims = {"sub": login.subject, **access_token_claims(str(token["access_token"]))}
        return TokenSet.from_token_response(
            {**token, "refresh_token": None, "id_token": None}, claims, token_set_id=token_set_id
        )

    def revoke_access_token(self, token_set: TokenSet) -> None:
        """Revoke a narrowed access token when its context is left (identity audits the end)."""
        endpoint = self._metadata_or_empty().get("revocation_endpoint")
        if not endpoint:
            return
        try:
            with self._session() as session:
                session.revoke_token(endpoint, token_set.access_token, token_type_hint="access_token")  # noqa: S106 - a hint, not a secret
        except Exception as exc:  # noqa: BLE001 - the token expires within minutes anyway
            log.warning("access token revocation failed: %s", type(exc).__name__)

    def refresh_claims(self, current: TokenSet) -> TokenSet:
        """Refresh, and take the person's claims afresh from identity (e.g. a role just granted by
        Zugang freischalten): a plain refresh keeps the claims of the login."""
        refreshed = self.refresh(current)
        claims = _portal_claims({**current.claims, **self._userinfo(refreshed.access_token)})
        return replace(refreshed, claims=claims)

    def revoke(self, token_set: TokenSet) -> None:
        """Revoke the refresh token at identity; logging out never fails on this."""
        endpoint = self._metadata_or_empty().get("revocation_endpoint")
        if not endpoint or not token_set.refresh_token:
            return
        try:
            with self._session() as session:
                session.revoke_token(endpoint, token_set.refresh_token, token_type_hint="refresh_token")  # noqa: S106 - a hint, not a secret
        except Exception as exc:  # noqa: BLE001 - the local session ends anyway
            log.warning("refresh token revocation failed: %s", type(exc).__name__)

    def logout_url(self, token_set: TokenSet | None) -> str:
        post_logout = f"{self.settings.public_url}/"
        metadata = self._metadata_or_empty()
        endpoint = metadata.get("end_session_endpoint") or f"{self.settings.issuer}/logout"
        params = {"post_logout_redirect_uri": post_logout, "client_id": self.settings.client_id}
        if token_set is not None and token_set.id_token:
            params["id_token_hint"] = token_set.id_token
        separator = "&" if "?" in endpoint else "?"
        return f"{endpoint}{separator}{urlencode(params)}"

    def _metadata_or_empty(self) -> Mapping[str, Any]:
        try:
            return self.metadata()
        except Exception as exc:  # noqa: BLE001 - identity unreachable: fall back to defaults
            log.warning("OIDC metadata unavailable: %s", type(exc).__name__)
            return {}

    def _userinfo(self, access_token: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint:
            return {}
        with self._session() as session:
            response = session.get(
                endpoint, headers={"Authorization": f"Bearer {access_token}"}, withhold_token=True
            )
            response.raise_for_status()
            return dict(response.json())

    def _session(self) -> OAuth2Session:
        methods = self._metadata_or_empty().get("token_endpoint_auth_methods_supported") or []
        method = "client_secret_basic" if not methods or "client_secret_basic" in methods else methods[0]
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method=method,
            revocation_endpoint_auth_method=method,
            default_timeout=10,
        )


def access_token_claims(access_token: str) -> dict[str, Any]:
    """The portal claims of an access token identity just handed us over the back channel.

    Not verified here: the token came straight from identity's token endpoint in answer to
    our authenticated request, and the services verify it on every call; the UI uses these
    claims only to choose what to show.
    """
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    if not isinstance(claims, dict):
        return {}
    kept = {name: claims[name] for name in PORTAL_CLAIMS if name in claims}
    if "sub" in claims:
        kept["sub"] = claims["sub"]
    return kept


def _portal_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    kept = {"sub": claims["sub"]}
    kept.update({name: claims[name] for name in PORTAL_CLAIMS if name in claims})
    return kept

"""The OIDC client's refresh, revocation and logout against a real (stand-in) provider over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.wrappers import Request, Response

from gateway.web.config import WebSettings
from gateway.web.oidc import OidcClient, TokenRefreshFailed
from gateway.web.tokens import TokenSet


def current(refresh: str | None = "r-1") -> TokenSet:
    return TokenSet(
        id="set-1",
        subject="u-1",
        access_token="a-1",
        refresh_token=refresh,
        id_token="id-1",
        expires_at=time.time() - 1,
        claims={"sub": "u-1", "roles": ["apprentice"]},
    )


def provider(serve, token_response: Callable[[Request], Response]) -> tuple[OidcClient, list[Request]]:
    seen: list[Request] = []
    base: dict[str, str] = {}

    def handler(request: Request) -> Response:
        request.form  # noqa: B018 - read the body while the connection is open
        seen.append(request)
        issuer = base["url"] + "/auth"
        if request.path == "/auth/.well-known/openid-configuration":
            metadata = {
                "issuer": issuer,
                "token_endpoint": f"{issuer}/token",
                "revocation_endpoint": f"{issuer}/revoke",
                "end_session_endpoint": f"{issuer}/logout",
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
            return Response(json.dumps(metadata), mimetype="application/json")
        if request.path == "/auth/token":
            return token_response(request)
        if request.path == "/auth/revoke":
            return Response("", 200)
        return Response("", 404)

    base["url"] = serve(handler)
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": "http://portal.test",
            "BP_ISSUER": base["url"] + "/auth",
            "WEB_DATABASE_URL": "sqlite://",
        }
    )
    return OidcClient(Flask(__name__), settings), seen


def tokens(**extra: object) -> Callable[[Request], Response]:
    def respond(_request: Request) -> Response:
        body = {"access_token": "a-2", "token_type": "Bearer", "expires_in": 300, **extra}
        return Response(json.dumps(body), mimetype="application/json")

    return respond


def test_refresh_stores_the_rotated_refresh_token(serve) -> None:
    oidc, seen = provider(serve, tokens(refresh_token="r-2"))
    renewed = oidc.refresh(current())
    assert (renewed.id, renewed.access_token, renewed.refresh_token) == ("set-1", "a-2", "r-2")
    assert not renewed.expiring()
    assert renewed.claims == current().claims
    (token_request,) = [r for r in seen if r.path == "/auth/token"]
    assert token_request.form["grant_type"] == "refresh_token"
    assert token_request.form["refresh_token"] == "r-1"
    assert token_request.authorization is not None and token_request.authorization.username == "portal-web"


def test_a_provider_that_does_not_rotate_keeps_the_old_refresh_token(serve) -> None:
    oidc, _seen = provider(serve, tokens())
    assert oidc.refresh(current()).refresh_token == "r-1"


def test_a_spent_refresh_token_ends_the_login(serve) -> None:
    rejected = Response(json.dumps({"error": "invalid_grant"}), status=400, mimetype="application/json")
    oidc, _seen = provider(serve, lambda _request: rejected)
    with pytest.raises(TokenRefreshFailed):
        oidc.refresh(current())


def test_an_identity_outage_is_not_mistaken_for_a_spent_token(serve) -> None:
    oidc, _seen = provider(serve, lambda _request: Response("down", status=503))
    with pytest.raises(requests.RequestException):
        oidc.refresh(current())


def test_without_refresh_token_there_is_no_refresh(serve) -> None:
    oidc, seen = provider(serve, tokens(refresh_token="r-2"))
    with pytest.raises(TokenRefreshFailed):
        oidc.refresh(current(refresh=None))
    assert not [r for r in seen if r.path == "/auth/token"]


def test_logout_revokes_the_refresh_token_and_ends_the_session_at_identity(serve) -> None:
    oidc, seen = provider(serve, tokens())
    oidc.revoke(current())
    (revocation,) = [r for r in seen if r.path == "/auth/revoke"]
    assert revocation.form["token"] == "r-1"
    assert revocation.form["token_type_hint"] == "refresh_token"
    url = urlsplit(oidc.logout_url(current()))
    assert url.path == "/auth/logout"
    assert parse_qs(url.query) == {
        "post_logout_redirect_uri": ["http://portal.test/"],
        "client_id": ["portal-web"],
        "id_token_hint": ["id-1"],
    }


def test_logout_still_works_when_identity_is_down() -> None:
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": "http://portal.test",
            "BP_ISSUER": "http://127.0.0.1:9/auth",
            "WEB_DATABASE_URL": "sqlite://",
        }
    )
    oidc = OidcClient(Flask(__name__), settings)
    oidc.revoke(current())  # logs, never raises
    assert oidc.logout_url(None).startswith("http://127.0.0.1:9/auth/logout?post_logout_redirect_uri=")


def test_back_channel_endpoints_move_to_the_internal_url() -> None:
    from gateway.web.oidc import back_channel_metadata

    issuer = "http://localhost:8080/auth"
    metadata = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "end_session_endpoint": f"{issuer}/logout",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "revocation_endpoint": f"{issuer}/revoke",
        "jwks_uri": f"{issuer}/jwks",
    }
    moved = back_channel_metadata(metadata, issuer, "http://identity:8101")
    assert moved["token_endpoint"] == "http://identity:8101/token"
    assert moved["jwks_uri"] == "http://identity:8101/jwks"
    assert moved["userinfo_endpoint"] == "http://identity:8101/userinfo"
    assert moved["revocation_endpoint"] == "http://identity:8101/revoke"
    # What the browser visits, and what the ID token must name, stay public.
    assert moved["authorization_endpoint"] == f"{issuer}/authorize"
    assert moved["end_session_endpoint"] == f"{issuer}/logout"
    assert moved["issuer"] == issuer

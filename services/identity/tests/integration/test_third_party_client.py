"""A third-party OIDC client drives identity over HTTP: authlib's requests client (its
``OAuth2Session``, the relying-party side, not this project's code; joserfc checks the ID
token as a relying party would) does discovery, the
authorization code flow with PKCE S256, the token exchange, ID-token validation against the
published JWKS, userinfo, refresh-token rotation, revocation and RP-initiated logout, for a
client registered with ``bp-identity register-client``; and keeps working across a key rotation."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import KeySet

from chassis.demo import demo_account
from identity.entrypoints.cli import register_client

REDIRECT_URI = "https://lehrstellenboerse.example/callback"
LOGOUT_URI = "https://lehrstellenboerse.example/"


@pytest.fixture
def registered(live_identity) -> dict[str, str]:
    """Another chamber application, registered the documented way."""
    result = CliRunner().invoke(
        register_client,
        [
            "--client-id",
            "lehrstellenboerse",
            "--name",
            "Lehrstellenbörse",
            "--redirect-uri",
            REDIRECT_URI,
            "--post-logout-redirect-uri",
            LOGOUT_URI,
            "--json",
        ],
        obj=live_identity.runtime,
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def _discover(issuer: str) -> dict[str, Any]:
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == issuer
    return dict(metadata)


def _client(metadata: dict[str, Any], credentials: dict[str, str]) -> OAuth2Session:
    return OAuth2Session(
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        scope="openid profile email",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def _id_claims(metadata: dict[str, Any], id_token: str, client_id: str, nonce: str) -> Any:
    """The ID token as the relying party checks it: signature by the JWKS, iss, aud, exp, nonce."""
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(id_token, keys, algorithms=metadata["id_token_signing_alg_values_supported"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    ).validate(decoded.claims)
    return decoded.claims


def _log_in(client: OAuth2Session, metadata: dict[str, Any], browser: requests.Session, http_login) -> dict:
    verifier = _verifier()
    nonce = "n-" + verifier[:16]
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0] != verifier
    apprentice = demo_account("apprentice")
    back = http_login(browser, metadata["issuer"], url, apprentice.login, apprentice.password)
    assert back.startswith(REDIRECT_URI)
    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=back, state=state, code_verifier=verifier
    )
    token["nonce"] = nonce
    return dict(token)


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def test_a_third_party_client_runs_every_flow(live_identity, registered, http_login) -> None:
    metadata = _discover(live_identity.issuer)
    client = _client(metadata, registered)
    browser = requests.Session()

    token = _log_in(client, metadata, browser, http_login)
    claims = _id_claims(metadata, token["id_token"], "lehrstellenboerse", token["nonce"])
    apprentice = demo_account("apprentice")
    assert claims["sub"] == apprentice.account_id

    info = client.get(metadata["userinfo_endpoint"]).json()
    assert info["sub"] == apprentice.account_id and info["email"] == apprentice.email

    # Refresh rotation: a new refresh token each time; the used one is refused.
    first_refresh = token["refresh_token"]
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh and refreshed["access_token"] != token["access_token"]
    assert client.get(metadata["userinfo_endpoint"]).status_code == 200
    with pytest.raises(OAuthError) as replay:
        client.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert replay.value.error == "invalid_grant"
    # Reuse revoked the whole grant, the rotated token included.
    with pytest.raises(OAuthError):
        client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])

    # A new login, then revocation and RP-initiated logout.
    token = _log_in(client, metadata, browser, http_login)
    revoked = client.revoke_token(
        metadata["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200
    with pytest.raises(OAuthError):
        client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    logout = browser.get(
        metadata["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_URI, "state": "s1"},
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302 and logout.headers["Location"] == f"{LOGOUT_URI}?state=s1"
    # The provider session is gone: the next authorization request asks for the password again.
    url, _ = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=_verifier())
    again = browser.get(url, allow_redirects=False, timeout=10)
    assert again.status_code == 302 and urlsplit(again.headers["Location"]).path.endswith("/login")


def test_the_client_must_use_pkce_s256(live_identity, registered) -> None:
    metadata = _discover(live_identity.issuer)
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    # The token exchange (RFC 8693) is offered only to the portal's own client; never password or implicit.
    assert set(metadata["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    for method in (None, "plain"):
        client = OAuth2Session(
            client_id=registered["client_id"],
            client_secret=registered["client_secret"],
            scope="openid",
            redirect_uri=REDIRECT_URI,
            code_challenge_method=method,
        )
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=_verifier()
        )
        response = requests.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 302
        assert "error=invalid_request" in response.headers["Location"], method
    # No password grant, no implicit flow.
    password = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(registered["client_id"], registered["client_secret"]),
        timeout=10,
    )
    assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"
    implicit = OAuth2Session(client_id=registered["client_id"], scope="openid", redirect_uri=REDIRECT_URI)
    url, _ = implicit.create_authorization_url(
        metadata["authorization_endpoint"], response_type="id_token token", nonce="n"
    )
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 400)
    assert "access_token" not in response.headers.get("Location", "")


def test_the_client_keeps_working_across_a_key_rotation(live_identity, registered, http_login) -> None:
    live = live_identity
    metadata = _discover(live.issuer)
    client = _client(metadata, registered)
    browser = requests.Session()
    before = _log_in(client, metadata, browser, http_login)
    kept = _log_in(client, metadata, browser, http_login)

    live.runtime.keys.rotate(live.runtime.rotation_policy(timedelta(minutes=15)))
    live.clock.advance(minutes=16)
    live.runtime.keys.reload()
    # The refreshed ID token is signed by the new key; the relying party's JWKS fetch has both.
    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=before["refresh_token"])
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    assert len(jwks["keys"]) == 2
    after = _log_in(client, metadata, browser, http_login)
    for token in (before, after):
        _id_claims(metadata, token["id_token"], "lehrstellenboerse", token["nonce"])
    for access_token in (refreshed["access_token"], after["access_token"], kept["access_token"]):
        # The old key's access token (kept) is accepted until the key retires.
        response = requests.get(
            metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )
        assert response.status_code == 200

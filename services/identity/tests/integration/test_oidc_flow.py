"""The authorization-code flow with PKCE S256 end to end, against PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from chassis.auth import TokenValidator
from chassis.demo import demo_account

PUBLIC_URL = "http://portal.test"
ISSUER = f"{PUBLIC_URL}/auth"


def jwks_validator(client: Any) -> TokenValidator:
    """chassis' validator, fed from identity's own /jwks (as every service does)."""

    def keys(force: bool = False) -> KeySet:
        response = client.get("/jwks")
        assert response.status_code == 200
        return KeySet.import_key_set(response.get_json())

    return TokenValidator(keys, issuer=ISSUER, audience="bildungsportal")


def redirect_query(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def test_discovery_document(browser) -> None:
    doc = browser.client.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert doc["token_endpoint"] == f"{ISSUER}/token"
    assert doc["jwks_uri"] == f"{ISSUER}/jwks"
    assert doc["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert doc["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert doc["end_session_endpoint"] == f"{ISSUER}/logout"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        # RFC 8693: the portal narrows its token to the active context (README, "contexts").
        "urn:ietf:params:oauth:grant-type:token-exchange",
    }
    assert "password" not in doc["grant_types_supported"]
    assert "implicit" not in doc["grant_types_supported"]
    assert doc["response_types_supported"] == ["code"]


def test_discovery_behind_the_edge_uses_the_issuer(app) -> None:
    """nginx strips /auth and names it in X-Forwarded-Prefix; SCRIPT_NAME is the same thing."""
    client = app.test_client()
    for base in ("http://portal.test/auth", "http://127.0.0.1:8101"):
        doc = client.get("/.well-known/openid-configuration", base_url=base).get_json()
        assert doc["token_endpoint"] == f"{ISSUER}/token"
        assert doc["jwks_uri"] == f"{ISSUER}/jwks"


def test_full_flow_apprentice(browser, pkce) -> None:
    apprentice = demo_account("apprentice")
    verifier, challenge = pkce()
    code, params = browser.code_for(apprentice.login, apprentice.password, verifier, challenge)

    response = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    tokens = response.get_json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["refresh_token"]

    # The access token validates the way every other service checks it.
    principal = jwks_validator(browser.client).validate(tokens["access_token"])
    assert principal.subject == apprentice.account_id
    assert principal.apprentice_number == "20260001"
    assert principal.roles == frozenset({"apprentice"})
    assert principal.email == apprentice.email
    claims = principal.claims
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"] and claims["name"] == apprentice.name
    assert claims["company_roles"] == {}

    # The ID token: for the client, with the nonce, signed with the JWKS key.
    keys = KeySet.import_key_set(browser.client.get("/jwks").get_json())
    id_token = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert id_token["iss"] == ISSUER
    assert id_token["aud"] == ["portal-web"]
    assert id_token["sub"] == apprentice.account_id
    assert id_token["nonce"] == params["nonce"]

    info = browser.client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    assert info.get_json()["sub"] == apprentice.account_id
    assert info.get_json()["email"] == apprentice.email

    me = browser.client.get("/accounts/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.get_json()["apprentice_number"] == "20260001"

    # The code works once.
    again = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"


def test_company_roles_reach_the_token(browser, pkce) -> None:
    admin = demo_account("company_admin")
    verifier, challenge = pkce()
    code, _ = browser.code_for(admin.login, admin.password, verifier, challenge)
    tokens = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    ).get_json()
    principal = jwks_validator(browser.client).validate(tokens["access_token"])
    assert principal.has_company_role("4711001", "admin")
    assert principal.apprentice_number is None


def test_wrong_code_verifier_is_rejected(browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    code, _ = browser.code_for(clerk.login, clerk.password, verifier, challenge)
    other_verifier, _ = pkce()
    response = browser.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=browser.redirect_uri,
        code_verifier=other_verifier,
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": None, "code_challenge_method": None},
    ],
    ids=["plain", "method-missing", "pkce-missing"],
)
def test_authorization_without_s256_is_refused(browser, overrides) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    params = browser.authorize_params(**overrides)
    query = redirect_query(browser.authorize(**params))
    assert query["error"] == "invalid_request"
    assert query["state"] == params["state"]
    assert "code" not in query


def test_unknown_redirect_uri_is_never_redirected_to(browser) -> None:
    params = browser.authorize_params(redirect_uri="https://evil.example/cb")
    response = browser.authorize(**params)
    assert response.status_code == 400
    assert "Anmeldung nicht möglich" in response.get_data(as_text=True)


def test_implicit_and_password_grants_are_unsupported(browser) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    query = redirect_query(browser.authorize(**browser.authorize_params(response_type="token")))
    assert query["error"] == "unsupported_response_type"
    response = browser.token(grant_type="password", username=clerk.login, password=clerk.password)
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_token_endpoint_requires_client_authentication(browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    code, _ = browser.code_for(clerk.login, clerk.password, verifier, challenge)
    response = browser.client.post(
        "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": browser.redirect_uri,
              "code_verifier": verifier},
        auth=("portal-web", "wrong-secret"),
    )  # fmt: skip
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def exchange(browser, pkce, key: str = "trainer") -> dict[str, Any]:
    person = demo_account(key)
    verifier, challenge = pkce()
    code, _ = browser.code_for(person.login, person.password, verifier, challenge)
    response = browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200
    return response.get_json()


def test_refresh_rotates_and_the_old_refresh_token_dies(browser, pkce) -> None:
    first = exchange(browser, pkce)
    second = browser.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200, second.get_data(as_text=True)
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert (
        jwks_validator(browser.client).validate(rotated["access_token"]).subject
        == demo_account("trainer").account_id
    )

    reused = browser.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.get_json()["error"] == "invalid_grant"
    # Reuse of a rotated token ends the whole grant, the newest token included.
    after_reuse = browser.token(grant_type="refresh_token", refresh_token=rotated["refresh_token"])
    assert after_reuse.status_code == 400


def test_revoked_refresh_token_no_longer_works(browser, pkce) -> None:
    tokens = exchange(browser, pkce)
    revoked = browser.client.post(
        "/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(browser.client_id, browser.client_secret),
    )
    assert revoked.status_code == 200
    refreshed = browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 400
    # Revoking the grant also stops its access token at userinfo.
    info = browser.client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401


def test_revoked_access_token_is_refused_at_userinfo(browser, pkce) -> None:
    tokens = exchange(browser, pkce)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert browser.client.get("/userinfo", headers=headers).status_code == 200
    revoked = browser.client.post(
        "/revoke", data={"token": tokens["access_token"]}, auth=(browser.client_id, browser.client_secret)
    )
    assert revoked.status_code == 200
    assert browser.client.get("/userinfo", headers=headers).status_code == 401
    # The refresh token of the grant still works: only the access token was revoked.
    assert browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200


def test_logout_ends_the_session_and_returns_to_the_portal(browser, pkce) -> None:
    tokens = exchange(browser, pkce)
    response = browser.client.get(
        "/logout",
        query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": f"{PUBLIC_URL}/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{PUBLIC_URL}/"
    # Logged out: authorize sends the browser to the login page again.
    again = browser.authorize(**browser.authorize_params())
    assert again.status_code == 302 and again.headers["Location"].endswith("/login")


def test_logout_never_redirects_to_an_unregistered_uri(browser, csrf) -> None:
    ask = browser.client.get(
        "/logout",
        query_string={"client_id": "portal-web", "post_logout_redirect_uri": "https://evil.example/"},
    )
    response = browser.client.post(
        "/logout",
        data={
            "csrf_token": csrf(ask.get_data(as_text=True)),
            "client_id": "portal-web",
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert response.status_code == 200
    assert "Sie haben sich vom Bildungsportal abgemeldet." in response.get_data(as_text=True)


def test_logout_without_our_id_token_asks_first(browser, pkce, csrf) -> None:
    exchange(browser, pkce)  # logged in at identity
    ask = browser.client.get("/logout", query_string={"post_logout_redirect_uri": f"{PUBLIC_URL}/"})
    assert ask.status_code == 200
    assert "Möchten Sie sich vom Bildungsportal abmelden?" in ask.get_data(as_text=True)
    # A link from elsewhere logged nobody out: authorize still finds the session.
    still = browser.authorize(**browser.authorize_params())
    assert not still.headers["Location"].endswith("/login")
    # A confirmation without CSRF token is refused.
    assert browser.client.post("/logout", data={}).status_code == 400
    confirmed = browser.client.post(
        "/logout",
        data={
            "csrf_token": csrf(ask.get_data(as_text=True)),
            "client_id": "portal-web",
            "post_logout_redirect_uri": f"{PUBLIC_URL}/",
        },
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"{PUBLIC_URL}/"


def test_accounts_me_requires_a_token(browser) -> None:
    response = browser.client.get("/accounts/me")
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_openapi_documents_the_account_api(browser) -> None:
    spec = browser.client.get("/openapi.json").get_json()
    assert "/accounts/me" in spec["paths"]
    assert "Account" in spec["components"]["schemas"]


def test_prompt_none_without_login_returns_login_required(browser) -> None:
    params = browser.authorize_params(prompt="none")
    query = redirect_query(browser.authorize(**params))
    assert query["error"] == "login_required"
    assert query["state"] == params["state"]


def test_prompt_login_forces_a_fresh_login(browser) -> None:
    clerk = demo_account("clerk")
    assert browser.login(clerk.login, clerk.password).status_code == 302
    silent = browser.authorize(**browser.authorize_params())
    assert silent.headers["Location"].startswith(browser.redirect_uri + "?code=")
    forced = browser.authorize(**browser.authorize_params(prompt="login"))
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/login")
    again = browser.login(clerk.login, clerk.password)
    assert "/authorize?" in again.headers["Location"] and "prompt" not in again.headers["Location"]
    assert browser.client.get(again.headers["Location"]).headers["Location"].startswith(browser.redirect_uri)


def test_concurrent_refreshes_with_one_token_yield_one_new_token(app, browser, pkce) -> None:
    tokens = exchange(browser, pkce)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def refresh() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(browser.client_id, browser.client_secret),
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


# -- authorization-code replay (RFC 6749 §4.1.2) and the required redirect_uri (OIDC Core 3.1.2.1) ----------
def code_exchange(browser, code: str, verifier: str) -> Any:
    return browser.token(
        grant_type="authorization_code", code=code, redirect_uri=browser.redirect_uri, code_verifier=verifier
    )


def test_a_replayed_code_revokes_the_tokens_of_its_first_exchange(browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    code, _ = browser.code_for(clerk.login, clerk.password, verifier, challenge)
    first = code_exchange(browser, code, verifier)
    assert first.status_code == 200
    tokens = first.get_json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert browser.client.get("/userinfo", headers=bearer).status_code == 200

    replay = code_exchange(browser, code, verifier)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"

    # Whoever got the first tokens (the client, or whoever stole the code) loses them.
    assert browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400
    assert browser.client.get("/userinfo", headers=bearer).status_code == 401
    assert browser.client.get("/accounts/me", headers=bearer).status_code == 401


def test_a_replay_also_ends_the_refreshed_tokens_of_that_grant(browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    code, _ = browser.code_for(clerk.login, clerk.password, verifier, challenge)
    tokens = code_exchange(browser, code, verifier).get_json()
    rotated = browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).get_json()
    assert code_exchange(browser, code, verifier).status_code == 400
    assert (
        browser.token(grant_type="refresh_token", refresh_token=rotated["refresh_token"]).status_code == 400
    )
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert browser.client.get("/userinfo", headers=bearer).status_code == 401


def test_concurrent_exchanges_of_one_code_leave_no_usable_tokens(app, browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    code, _ = browser.code_for(clerk.login, clerk.password, verifier, challenge)
    barrier = threading.Barrier(3)
    responses: list[Any] = []

    def exchange_code() -> None:
        client = app.test_client()
        barrier.wait()
        responses.append(
            client.post(
                "/token",
                data={"grant_type": "authorization_code", "code": code,
                      "redirect_uri": browser.redirect_uri, "code_verifier": verifier},
                auth=(browser.client_id, browser.client_secret),
            )
        )  # fmt: skip

    threads = [threading.Thread(target=exchange_code) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in responses) == [200, 400, 400]
    [winner] = [r.get_json() for r in responses if r.status_code == 200]
    assert browser.token(grant_type="refresh_token", refresh_token=winner["refresh_token"]).status_code == 400


def test_an_unknown_code_revokes_nothing(browser, pkce) -> None:
    tokens = exchange(browser, pkce)
    verifier, _ = pkce()
    assert code_exchange(browser, "a-code-never-issued", verifier).status_code == 400
    assert browser.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_authorization_without_redirect_uri_is_refused_on_a_page(browser, logged_in) -> None:
    if logged_in:
        clerk = demo_account("clerk")
        assert browser.login(clerk.login, clerk.password).status_code == 302
    response = browser.authorize(**browser.authorize_params(redirect_uri=None))
    # Not redirected anywhere (not even to the registered URI): the person sees the error.
    assert response.status_code == 400
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Anmeldung nicht möglich" in page
    assert "invalid_request" in page


def test_a_reused_nonce_gets_no_code_while_its_code_lives(browser, pkce) -> None:
    clerk = demo_account("clerk")
    verifier, challenge = pkce()
    _code, _params = browser.code_for(clerk.login, clerk.password, verifier, challenge, nonce="einmalig")

    # Logged in now: the same nonce again is refused before any code is issued.
    again = browser.authorize(**browser.authorize_params(nonce="einmalig"))
    assert again.status_code == 302
    location = urlsplit(again.headers["Location"])
    query = parse_qs(location.query)
    assert "code" not in query and query["error"] == ["invalid_request"], again.headers["Location"]

    # A fresh nonce works.
    fresh = browser.authorize(**browser.authorize_params())
    assert fresh.status_code == 302 and "code=" in fresh.headers["Location"]

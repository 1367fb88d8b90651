"""A signed-in user's access token, obtained as the browser UI obtains one: the authorization
code flow with PKCE through the edge, logging in on identity's page (tests and benchmarks)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from chassis.demo import demo_account

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def access_token(base_url: str, client_secret: str, account_key: str = "clerk") -> str:
    """The demo account's access token (``account_key`` of ``chassis.demo.DEMO_ACCOUNTS``)."""
    account = demo_account(account_key)
    return str(token_response(base_url, client_secret, account.login, account.password)["access_token"])


def token_response(base_url: str, client_secret: str, login: str, password: str) -> dict[str, Any]:
    """One whole login from scratch (no cookies, a fresh PKCE pair and state): authorize → login
    form → POST with the password → the code → the token response. AssertionError if a step fails."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"{base_url}/oidc/callback"
    with requests.Session() as http:

        def follow(response: requests.Response) -> requests.Response:
            while response.is_redirect and not response.headers["Location"].startswith(redirect_uri):
                response = http.get(
                    urljoin(response.url, response.headers["Location"]), allow_redirects=False
                )
            return response

        login_page = follow(
            http.get(
                f"{base_url}/auth/authorize",
                params={
                    "response_type": "code",
                    "client_id": "portal-web",
                    "redirect_uri": redirect_uri,
                    "scope": "openid profile email",
                    "state": secrets.token_urlsafe(8),
                    "nonce": secrets.token_urlsafe(8),
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
                allow_redirects=False,
            )
        )
        csrf = CSRF_FIELD.search(login_page.text)
        assert login_page.status_code == 200 and csrf, login_page.text[:500]
        done = follow(
            http.post(
                login_page.url,
                data={"login": login, "password": password, "csrf_token": csrf.group(1)},
                allow_redirects=False,
            )
        )
        assert done.is_redirect, done.text[:500]
        (code,) = parse_qs(urlsplit(done.headers["Location"]).query)["code"]
        tokens = http.post(
            f"{base_url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=("portal-web", client_secret),
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        return dict(tokens.json())

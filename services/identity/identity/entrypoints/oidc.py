"""The OpenID Connect endpoints: discovery, JWKS, authorize, token, revoke, userinfo, logout."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Response,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy.exc import InterfaceError, OperationalError

from chassis.problems import ServiceUnavailable, problem_response
from identity.bootstrap import TOKEN_EXCHANGE_GRANT
from identity.domain.model import Account, LoginSession
from identity.entrypoints.login_session import (
    PENDING_AUTHORIZE,
    current_login,
    log_out,
    require_login_session,
)
from identity.entrypoints.oauth_server import (
    AUTH_METHODS,
    SCOPES,
    authorization_server,
    identity_runtime,
    issuer_url,
    request_uow,
    usable_account,
)
from identity.entrypoints.pages import unavailable_page

bp = Blueprint("oidc", __name__, template_folder="templates")


BROWSER_ENDPOINTS = frozenset({"oidc.authorize", "oidc.logout"})


@bp.errorhandler(ServiceUnavailable)
@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _unavailable(error: Exception) -> Any:
    if request.endpoint in BROWSER_ENDPOINTS:
        return unavailable_page()
    # Clients get RFC 9457 problem+json with Retry-After, as everywhere.
    return problem_response(
        503,
        "Service Unavailable",
        "A backing service (database) is not reachable. Please retry.",
        problem_type="service-unavailable",
        headers={"Retry-After": "5"},
    )


def _commit_if(response: Response, succeeded: bool) -> Response:
    if succeeded and g.get("oauth_uow") is not None:
        request_uow().commit()
    return response


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    return jsonify(
        issuer=identity_runtime().settings.issuer,
        authorization_endpoint=issuer_url("oidc.authorize"),
        token_endpoint=issuer_url("oidc.token"),
        userinfo_endpoint=issuer_url("oidc.userinfo"),
        jwks_uri=issuer_url("oidc.jwks"),
        revocation_endpoint=issuer_url("oidc.revoke"),
        end_session_endpoint=issuer_url("oidc.logout"),
        scopes_supported=SCOPES,
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token", TOKEN_EXCHANGE_GRANT],
        code_challenge_methods_supported=["S256"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=AUTH_METHODS,
        claims_supported=[
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "name",
            "email",
            "preferred_username",
            "roles",
            "company_roles",
            "apprentice_number",
        ],
    )


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(identity_runtime().keys.public_jwks())
    # Public keys may be cached briefly; validators refetch on an unknown kid.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/authorize")
def authorize() -> Any:
    server = authorization_server()
    # The whole request reads in the OAuth request's unit of work: the login session, the client,
    # the account. Without a cookie, the client's lookup (get_consent_grant, before anything is
    # shown) is what asks the database whether it answers; down, the page says so (503).
    login = current_login(request_uow())
    if login is not None and _fresh_login_requested(login):
        log_out()
        login = None
    account = usable_account(str(login.account_id)) if login else None
    try:
        grant = server.get_consent_grant(end_user=account)
    except OAuth2Error as error:
        if error.redirect_uri:
            # The client and its redirect URI are known: tell the client.
            return server.handle_error_response(None, error)
        # Unknown client, unknown or missing redirect URI: never redirect (open
        # redirector); the person sees the error instead.
        return (
            render_template(
                "identity/authorize_error.html", page_title="Anmeldung nicht möglich", error_code=error.error
            ),
            400,
        )
    if account is None:
        # Continue after login with the same request, minus the demand for a fresh
        # login (which the login itself satisfies).
        pending = [(k, v) for k, v in request.args.items(multi=True) if k not in ("prompt", "max_age")]
        session[PENDING_AUTHORIZE] = urlencode(pending)
        return redirect(url_for("pages.login"))
    session.pop(PENDING_AUTHORIZE, None)
    # First-party clients only: the portal's own UI needs no consent screen.
    assert login is not None
    g.auth_time = int(login.auth_time.timestamp())
    response = _authorization_response(server, grant, account)
    location = response.headers.get("Location", "")
    return _commit_if(response, response.status_code == 302 and "code=" in location)


def _authorization_response(server: AuthorizationServer, grant: Any, account: Account) -> Response:
    """authlib's ``create_authorization_response`` without its second validation of the request:
    ``get_consent_grant`` validated it moments ago, in this request and its transaction (client,
    redirect URI, scope, PKCE, nonce), and kept the redirect URI in ``grant.redirect_uri``;
    validating again would only repeat the same reads (the nonce is a query)."""
    try:
        response = server.handle_response(*grant.create_authorization_response(grant.redirect_uri, account))
    except OAuth2Error as error:
        error.state = grant.request.payload.state
        response = server.handle_error_response(grant.request, error)
    grant.execute_hook("after_authorization_response", response)
    return response


def _fresh_login_requested(login: LoginSession) -> bool:
    """prompt=login, or a max_age the current login session is older than (OIDC Core 3.1.2.1)."""
    if "login" in request.args.get("prompt", "").split():
        return True
    max_age = request.args.get("max_age", "")
    if max_age.isdigit():
        return time.time() - login.auth_time.timestamp() > int(max_age)
    return False


@bp.post("/token")
def token() -> Response:
    response = authorization_server().create_token_response()
    return _commit_if(response, response.status_code == 200)


@bp.post("/revoke")
def revoke() -> Response:
    response = authorization_server().create_endpoint_response("revocation")
    return _commit_if(response, response.status_code == 200)


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    return authorization_server().create_endpoint_response("userinfo")


@bp.get("/logout")
def logout() -> Any:
    """RP-initiated logout: end the provider session, then return to a registered URI.

    With an ID token we issued as hint, the client asked for it; without one, any
    page could log people out with a link, so the person confirms first (a POST
    with a CSRF token).
    """
    require_login_session()
    if _audience_of(request.args.get("id_token_hint", "")):
        return _log_out_and_return(request.args)
    return render_template(
        "identity/logout_confirm.html",
        page_title="Abmelden",
        carried={
            k: request.args[k]
            for k in ("post_logout_redirect_uri", "client_id", "state")
            if k in request.args
        },
    )


@bp.post("/logout")
def logout_confirmed() -> Any:
    require_login_session()
    return _log_out_and_return(request.form)


def _log_out_and_return(params: Mapping[str, str]) -> Any:
    log_out()
    target = params.get("post_logout_redirect_uri", "")
    client_id = params.get("client_id", "") or _audience_of(params.get("id_token_hint", ""))
    if target and client_id:
        client = request_uow().oauth.client(client_id)
        if client is not None and client.check_post_logout_redirect_uri(target):
            state = params.get("state")
            if state:
                target += ("&" if "?" in target else "?") + urlencode({"state": state})
            return redirect(target)
    return render_template(
        "identity/logged_out.html",
        page_title="Abgemeldet",
        portal_url=identity_runtime().settings.public_url + "/",
    )


def _audience_of(id_token_hint: str) -> str:
    """The client an ID token we issued was for (expired hints are fine, forged ones are not)."""
    if not id_token_hint:
        return ""
    try:
        decoded = jwt.decode(id_token_hint, identity_runtime().keys.public_key_set(), algorithms=["RS256"])
    except (JoseError, ValueError):
        return ""
    if decoded.claims.get("iss") != identity_runtime().settings.issuer:
        return ""
    audience = decoded.claims.get("aud")
    if isinstance(audience, list):
        return audience[0] if len(audience) == 1 else ""
    return str(audience or "")

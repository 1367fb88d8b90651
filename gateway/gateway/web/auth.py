"""Login, logout and the signed-in user, with tokens kept server-side.

The browser's session (server-side, see ``sessions``) holds only the id of the
user's token set and when they logged in; the tokens themselves stay in the
web database and never reach the browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import requests
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from chassis.auth import Principal
from gateway.web.oidc import OidcClient, TokenRefreshFailed
from gateway.web.services import ServiceError
from gateway.web.tokens import TokenSet, TokenStore

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

# ASVS L2 3.3.2: log in again at least every 12 hours, however active.
ABSOLUTE_SESSION_SECONDS = 12 * 3600
SESSION_EXPIRED = "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."

F = TypeVar("F", bound=Callable[..., Any])


def _oidc() -> OidcClient:
    return current_app.extensions["web.oidc"]


def _tokens() -> TokenStore:
    return current_app.extensions["web.tokens"]


def current_token_set() -> TokenSet | None:
    """The signed-in user's token set with a usable access token (refreshed when due)."""
    if "web_token_set" in g:
        return g.web_token_set
    token_set: TokenSet | None = None
    token_set_id = session.get("token_set")
    if token_set_id:
        if time.time() - float(session.get("login_at", 0)) > ABSOLUTE_SESSION_SECONDS:
            end_local_session(expired=True)
        else:
            try:
                token_set = _tokens().fresh(token_set_id, _oidc().refresh)
            except TokenRefreshFailed:
                log.info("refresh token rejected; the session ends")
                end_local_session(expired=True)
            except (requests.RequestException, ValueError):
                # identity unreachable or answering nonsense: not the user's fault, keep the session.
                raise ServiceError(503) from None
            if token_set is None and "token_set" in session:
                end_local_session(expired=True)
    g.web_token_set = token_set if token_set is None else _in_active_context(token_set)
    return g.web_token_set


def login_token_set() -> TokenSet | None:
    """The token set of the login itself (all the person holds), whatever context is active."""
    current_token_set()
    return g.get("web_login_token_set")


def _in_active_context(login: TokenSet) -> TokenSet:
    """The token set the services are called with: the login's, or the one narrowed to the
    context the person chose (``contexts.switch``), re-exchanged when it expires."""
    g.web_login_token_set = login
    context, narrowed_id = session.get("context"), session.get("context_token_set")
    if not context or not narrowed_id:
        return login
    try:
        narrowed = _tokens().fresh(
            narrowed_id, lambda current: _oidc().exchange(login, context, token_set_id=current.id)
        )
    except TokenRefreshFailed:
        # The context is no longer held (a role revoked, a deputyship removed): back to the login's.
        log.info("context %s no longer available; back to the login's token", context)
        leave_context()
        flash("Die gewählte Rolle steht Ihnen nicht mehr zur Verfügung.", "warning")
        return login
    except (requests.RequestException, ValueError):
        raise ServiceError(503) from None
    if narrowed is None:
        session.pop("context", None)
        session.pop("context_token_set", None)
        return login
    return narrowed


def enter_context(context: str) -> None:
    """Switch to ``context`` (a key from identity's /contexts); TokenRefreshFailed if refused."""
    login = login_token_set()
    if login is None:
        abort(401)
    leave_context()
    narrowed = _oidc().exchange(login, context)
    _tokens().save(narrowed)
    session["context"] = context
    session["context_token_set"] = narrowed.id
    g.pop("web_token_set", None)


def leave_context() -> None:
    """Back to the login's own token; the narrowed one is revoked (identity audits the end)."""
    narrowed_id = session.pop("context_token_set", None)
    session.pop("context", None)
    g.pop("web_token_set", None)
    if narrowed_id:
        narrowed = _tokens().get(narrowed_id)
        if narrowed is not None:
            _oidc().revoke_access_token(narrowed)
            _tokens().delete(narrowed_id)


def renew_claims() -> None:
    """Refresh the signed-in user's tokens now and take their claims afresh (a role was just
    granted): the next page sees the new role without logging in again."""
    token_set_id = session.get("token_set")
    if not token_set_id:
        return
    try:
        _tokens().fresh(token_set_id, _oidc().refresh_claims, force=True)
    except TokenRefreshFailed:
        end_local_session(expired=True)
    except (requests.RequestException, ValueError):
        raise ServiceError(503) from None
    g.pop("web_token_set", None)


def current_user() -> Principal | None:
    token_set = current_token_set()
    return None if token_set is None else Principal.from_claims(token_set.claims)


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            session["next"] = _safe_next(request.full_path if request.query_string else request.path)
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require(allowed: Callable[[Principal], bool]) -> Callable[[F], F]:
    """Signed in and allowed, or 403; the services check again with their own records."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or not allowed(user):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@bp.get("/anmelden")
def login() -> Response:
    if current_user() is not None:
        return redirect(url_for("pages.index"))
    try:
        return _oidc().login_redirect()
    except requests.RequestException:
        raise ServiceError(503) from None


@bp.get("/oidc/callback")
def callback() -> Response:
    try:
        token_set = _oidc().finish_login()
    except requests.RequestException:
        raise ServiceError(503) from None
    except (OAuthError, ValueError, KeyError) as exc:
        # A stale or forged state, a reused code, a bad ID token or a user
        # who cancelled: start over, without details for the browser.
        log.warning("login callback failed: %s", type(exc).__name__)
        flash("Die Anmeldung ist fehlgeschlagen. Bitte versuchen Sie es erneut.", "error")
        return redirect(url_for("pages.index"))
    next_url = _safe_next(session.get("next"))
    _tokens().save(token_set)
    # A new session id at login, so that a session id planted before cannot be used after.
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
    session.clear()
    session["token_set"] = token_set.id
    session["login_at"] = time.time()
    return redirect(next_url or url_for("pages.index"))


@bp.post("/abmelden")
def logout() -> Response:
    token_set_id = session.get("token_set")
    token_set = _tokens().get(token_set_id) if token_set_id else None
    if token_set is not None:
        # Revoking the login's grant revokes every token exchanged from it too.
        _oidc().revoke(token_set)
        _tokens().delete(token_set.id)
    narrowed_id = session.get("context_token_set")
    if narrowed_id:
        _tokens().delete(narrowed_id)
    session.clear()
    return redirect(_oidc().logout_url(token_set))


def end_local_session(*, expired: bool) -> None:
    token_set_id = session.get("token_set")
    if token_set_id:
        _tokens().delete(token_set_id)
    narrowed_id = session.get("context_token_set")
    if narrowed_id:
        _tokens().delete(narrowed_id)
    session.clear()
    if expired:
        flash(SESSION_EXPIRED, "warning")


def _safe_next(target: str | None) -> str | None:
    # Only paths of this site: no scheme, no host, no "//evil.example".
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target.rstrip("?") or None

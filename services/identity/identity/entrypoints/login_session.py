"""identity's own login session (cookie ``bp_idp_session``): who is logged in at the provider.

It holds only the account id, the time of login and a pending authorization
request; tokens never go into it.
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Request, current_app, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import SQLAlchemyError

from chassis.problems import ServiceUnavailable
from identity.adapters.keys import KeyStore
from identity.domain.model import Account

log = logging.getLogger(__name__)

PENDING_AUTHORIZE = "pending_authorize"
_UNAVAILABLE = "identity.login_session_unavailable"


class ScriptRootSessionInterface(SecureCookieSessionInterface):
    """Signs with the key every worker shares and scopes the cookie to the app's mount point.

    identity is mounted under /auth (and /api/identity); the cookie must not
    travel to the other apps of the portal.
    """

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root or "/"

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            try:
                app.secret_key = self._keys.session_key
            except SQLAlchemyError:
                # The database is down before this worker ever loaded the key. Only
                # the pages that need a login session fail (with 503), see below;
                # /healthz, /jwks (once cached) and the token endpoint carry on.
                log.warning("login-session key not loadable; database unavailable")
                request.environ[_UNAVAILABLE] = True
                return None
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        return super().get_signing_serializer(app) if app.secret_key else None


def require_login_session() -> None:
    """Raise 503 where a page needs the login session but its key could not be loaded."""
    if request.environ.get(_UNAVAILABLE):
        raise ServiceUnavailable("The login session is unavailable: the database is not reachable.")


def log_in(account: Account) -> None:
    pending = session.get(PENDING_AUTHORIZE)
    # A fresh session at login: nothing from before survives except the pending request.
    session.clear()
    session.permanent = True
    session["account_id"] = str(account.id)
    session["auth_time"] = int(time.time())
    if pending:
        session[PENDING_AUTHORIZE] = pending


def log_out() -> None:
    session.clear()


def logged_in_account_id() -> uuid.UUID | None:
    account_id = session.get("account_id")
    auth_time = session.get("auth_time")
    if not account_id or not isinstance(auth_time, int):
        return None
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if time.time() - auth_time > lifetime:
        return None
    try:
        return uuid.UUID(account_id)
    except ValueError:
        return None

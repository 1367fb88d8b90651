"""identity's own login session: who is logged in at the provider.

The session lives on the server (``domain.model.LoginSession``, table ``login_sessions``).
The cookie ``bp_idp_session`` (signed with ``IDENTITY_SECRET_KEY``) holds only the
session's random id and a pending authorization request; tokens never go into it.
Logging out deletes the server-side session, so a saved copy of the cookie is worth
nothing afterwards.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from chassis.db import ping
from identity.domain.commands import EndLoginSession, StartLoginSession
from identity.domain.model import Account, LoginSession
from identity.domain.queries import FindLoginSession
from identity.entrypoints.oauth_server import identity_runtime
from identity.service_layer.unit_of_work import IdentityUnitOfWork

PENDING_AUTHORIZE = "pending_authorize"
SESSION_ID = "sid"


class ScriptRootSessionInterface(SecureCookieSessionInterface):
    """Scopes the cookie to the app's mount point.

    identity is mounted under /auth (and /api/identity); the cookie must not
    travel to the other apps of the portal.
    """

    def __init__(self) -> None:
        self._serializers: dict[Any, URLSafeTimedSerializer | None] = {}

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root or "/"

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once per set of keys rather than twice per request (the
        cookie is read and written): building one also serialises a test value."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def require_login_session() -> None:
    """Pages that log people in or out work with the login sessions kept in the database.

    Before such a page is shown, the cookie's session is looked up, or (without one)
    the database is asked whether it answers: if it does not, the page's error handler
    answers 503 with a German page instead of a form that could not be sent.
    """
    if "login_session" in g:
        return  # looked up in this request already: the database answered
    if _session_id():
        current_login()
        return
    ping(identity_runtime().engine)
    g.login_session = None  # no cookie, no login


def _session_id() -> str | None:
    value = session.get(SESSION_ID)
    return value if isinstance(value, str) and value else None


def log_in(account: Account) -> None:
    """Start a login session; the one the browser had before ends (no fixation, no leftovers)."""
    remember_login(identity_runtime().bus.handle(StartLoginSession(account.id, replaces=_session_id())))


def session_to_replace() -> str | None:
    """The login session the browser has now, which a login in it ends (``LogInAtProvider``)."""
    return _session_id()


def remember_login(session_id: str) -> None:
    """The cookie of a login session just started (``log_in`` or ``LogInAtProvider``)."""
    pending = session.get(PENDING_AUTHORIZE)
    # A fresh cookie at login: nothing from before survives except the pending request.
    session.clear()
    session.permanent = True
    session[SESSION_ID] = session_id
    if pending:
        session[PENDING_AUTHORIZE] = pending
    g.pop("login_session", None)  # looked up afresh if asked for again


def log_out() -> None:
    """End the login session on the server, then forget the cookie.

    If the database cannot be reached, this raises (and the person sees a 503 page)
    rather than clear only the cookie and leave the session alive on the server.
    """
    session_id = _session_id()
    if session_id:
        identity_runtime().bus.handle(EndLoginSession(session_id))
    session.clear()
    g.login_session = None


def current_login(uow: IdentityUnitOfWork | None = None) -> LoginSession | None:
    """The live login session named by the cookie, if any (looked up once per request).

    ``uow``: an open unit of work to look it up in (``/authorize`` passes the OAuth request's,
    which reads the client and the account next; a unit of work of its own would cost a
    connection checkout, a transaction and a round trip more). Without it, a query on the bus.
    """
    if "login_session" in g:
        found: LoginSession | None = g.login_session
        return found
    session_id = _session_id()
    runtime = identity_runtime()
    if not session_id:
        found = None
    elif uow is not None:
        found = uow.login_sessions.live(session_id, runtime.clock())
    else:
        found = runtime.bus.handle(FindLoginSession(session_id))
    g.login_session = found
    return found

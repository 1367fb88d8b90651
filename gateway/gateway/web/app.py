"""The web app factory: ``create_app()`` is mounted at "/" by the gateway."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from flask import Flask, abort, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from chassis.config import require_secret
from chassis.ui import register_ui
from gateway.web import auth, errors, formatting
from gateway.web.access_services import AccessServices, HttpAccessServices
from gateway.web.config import WebSettings
from gateway.web.identity_api import HttpIdentity, IdentityServicesFactory
from gateway.web.navigation import navigation
from gateway.web.oidc import OidcClient
from gateway.web.services import HttpServices, ServiceError
from gateway.web.sessions import SqlSessionInterface
from gateway.web.store import create_store_engine
from gateway.web.submissions import FormSubmissions
from gateway.web.tokens import TokenStore
from gateway.web.views import (
    access,
    accounts,
    atlas,
    contracts,
    documents,
    imports,
    mailbox,
    pages,
    permissions,
    trainers,
)
from gateway.web.views.common import PublicServicesFactory, ServicesFactory

log = logging.getLogger(__name__)

C = TypeVar("C", bound=HttpServices)

IDLE_TIMEOUT = timedelta(minutes=30)


def create_app(
    settings: WebSettings | None = None,
    *,
    services_factory: ServicesFactory | None = None,
    public_services_factory: PublicServicesFactory | None = None,
    identity_factory: IdentityServicesFactory | None = None,
    access_services_factory: Callable[[str], AccessServices] | None = None,
) -> Flask:
    """Build the UI. ``services_factory`` (access token -> services client) and
    ``public_services_factory`` (the client of pages without login) are for tests."""
    settings = settings or WebSettings.from_env()
    app = Flask(__name__)
    if settings.behind_proxy:
        # nginx in front: trust its X-Forwarded-* (scheme, host, prefix) once.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)  # type: ignore[method-assign]
    # Equal in every worker and across restarts, or no start (chassis' secrets policy).
    settings = replace(
        settings,
        secret_key=require_secret("WEB_SECRET_KEY", settings.secret_key, settings),
        client_secret=require_secret("BP_WEB_CLIENT_SECRET", settings.client_secret, settings),
    )
    secure = settings.secure_cookies
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_NAME="__Host-bp_session" if secure else "bp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=IDLE_TIMEOUT,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which expires on its own
    )

    # The schema is migrated once before the workers start (``bp-portal migrate-web``);
    # the app never creates tables, and does not touch the database while it starts.
    engine = create_store_engine(settings.database_url)
    token_store = TokenStore(engine)
    submissions = FormSubmissions(engine)

    def clean_up() -> None:
        token_store.delete_stale(timedelta(seconds=auth.ABSOLUTE_SESSION_SECONDS))
        submissions.delete_old()

    app.session_interface = SqlSessionInterface(app, engine, also_clean=clean_up)
    http = requests.Session()

    def connect(client: type[C], access_token: str | None) -> C:
        """A client of the services' APIs for this request: as the user (``access_token``), or
        anonymous for the public pages (the Ausbildungsatlas)."""
        return client(
            settings.api_base_url,
            access_token,
            http=http,
            timeout=settings.api_timeout,
            request_id=g.get("request_id"),
        )

    app.extensions["web.settings"] = settings
    app.extensions["web.engine"] = engine
    app.extensions["web.tokens"] = token_store
    app.extensions["web.submissions"] = submissions
    app.extensions["web.oidc"] = OidcClient(app, settings)

    app.extensions["web.services_factory"] = services_factory or partial(connect, HttpServices)
    app.extensions["web.identity_factory"] = identity_factory or partial(connect, HttpIdentity)
    app.extensions["web.access_services_factory"] = access_services_factory or partial(
        connect, HttpAccessServices
    )
    app.extensions["web.public_services_factory"] = public_services_factory or partial(
        connect, HttpServices, None
    )

    # Before CSRF: without its session store the app cannot check a form's token,
    # and an outage must not look like an expired form.
    _install_session_store_check(app)
    # Before CSRF, which reads the form: the data import's upload may be larger than other posts.
    imports.allow_large_uploads(app)
    CSRFProtect(app)
    register_ui(app)
    formatting.register_filters(app)
    for blueprint in (
        auth.bp,
        pages.bp,
        contracts.bp,
        trainers.bp,
        atlas.bp,
        imports.bp,
        documents.bp,
        mailbox.bp,
        permissions.bp,
        accounts.bp,
        access.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)
    _install_request_hooks(app, settings)
    return app


def _install_session_store_check(app: Flask) -> None:
    @app.before_request
    def _session_store_available() -> None:
        failure = g.get("session_store_failure")
        if failure and request.endpoint not in ("pages.healthz", "ui.static", "static"):
            if failure == 503:
                raise ServiceError(503)  # German page, 503 with Retry-After
            abort(500)


def _install_request_hooks(app: Flask, settings: WebSettings) -> None:
    issuer = urlsplit(settings.issuer)
    issuer_origin = f"{issuer.scheme}://{issuer.netloc}"
    # No inline scripts or styles anywhere, so the policy can be this strict.
    csp = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            # Logging out ends at identity's end-session endpoint.
            f"form-action 'self' {issuer_origin}",
        )
    )

    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else str(uuid.uuid4())

    @app.context_processor
    def _layout() -> dict[str, object]:
        try:
            user = auth.current_user()
        except ServiceError:
            user = None  # identity unreachable: the error page still renders
        return {
            "user": user,
            "nav_items": navigation(user, mailbox=mailbox.mailbox_available()),
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.endpoint != "ui.static":
            # Pages show personal data: never from a shared cache, never from history.
            response.headers["Cache-Control"] = "no-store"
        return response

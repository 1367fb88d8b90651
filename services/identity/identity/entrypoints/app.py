"""identity's Flask app: OIDC endpoints, German login/activation pages and the REST API."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from chassis.app import create_service_app
from chassis.ui import register_ui
from identity.bootstrap import IdentityRuntime, bootstrap
from identity.entrypoints import access_api, access_pages, api, chamber_api, oidc, pages, registration_pages
from identity.entrypoints.login_session import ScriptRootSessionInterface
from identity.entrypoints.oauth_server import build_authorization_server

# The JSON APIs: Bearer tokens, no cookies, so no CSRF token applies to them.
API_BLUEPRINTS = [*api.BLUEPRINTS, *chamber_api.BLUEPRINTS, *access_api.BLUEPRINTS]

log = logging.getLogger(__name__)

SESSION_COOKIE = "bp_idp_session"


def build_app(runtime: IdentityRuntime) -> Flask:
    settings = runtime.settings

    def configure(app: Flask) -> None:
        app.config.update(
            SESSION_COOKIE_NAME=SESSION_COOKIE,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
            PERMANENT_SESSION_LIFETIME=runtime.config.login_session_lifetime,
        )

    app = create_service_app(
        runtime,
        title="Bildungsportal – identity",
        description=(
            "Accounts, login and activation, and the OpenID Connect provider of the Bildungsportal. "
            "The OIDC endpoints (discovery, jwks, authorize, token, revoke, userinfo, logout) are "
            "described by /.well-known/openid-configuration."
        ),
        blueprints=API_BLUEPRINTS,
        configure=configure,
    )
    # IDENTITY_SECRET_KEY signs the login session and CSRF tokens: the same in every
    # worker and across restarts, or no start (chassis' secrets policy).
    app.secret_key = settings.required_secret_key()
    app.session_interface = ScriptRootSessionInterface()

    register_ui(app)
    app.register_blueprint(oidc.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(registration_pages.bp)
    app.register_blueprint(access_pages.bp)
    build_authorization_server(app, runtime)

    csrf = CSRFProtect(app)
    # Clients authenticate themselves at these endpoints, and bearer tokens
    # are not sent by browsers on their own: no CSRF token applies.
    for view in (oidc.token, oidc.revoke, oidc.userinfo):
        csrf.exempt(view)
    for blueprint in API_BLUEPRINTS:
        csrf.exempt(blueprint)

    @app.errorhandler(CSRFError)
    def _csrf_failed(_error: CSRFError) -> tuple[str, int]:
        message = (
            "Ihre Sitzung ist abgelaufen oder das Formular ist ungültig. "
            "Bitte laden Sie die Seite neu und versuchen Sie es erneut."
        )
        return render_template("identity/error.html", page_title="Sitzung abgelaufen", message=message), 400

    @app.context_processor
    def _portal() -> dict[str, str]:
        return {"portal_home": settings.public_url + "/"}

    try:
        runtime.register_clients()
    except SQLAlchemyError:
        # Not migrated yet: `bp-identity migrate` (and seed) register the clients too.
        log.warning("could not register the OIDC clients yet; the database is not ready")
    return app


def create_app() -> Flask:
    """For gunicorn: ``gunicorn 'identity.entrypoints.app:create_app()'``."""
    return build_app(bootstrap())

"""identity's Flask app: OIDC endpoints, German login/activation pages and the REST API."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from chassis.app import create_service_app
from chassis.service import ServiceRuntime
from chassis.ui import register_ui
from identity.entrypoints import api, oidc, pages
from identity.entrypoints.login_session import ScriptRootSessionInterface
from identity.entrypoints.oauth_server import IdentityContext, build_authorization_server, register_clients

log = logging.getLogger(__name__)

SESSION_COOKIE = "bp_idp_session"


def build_app(runtime: ServiceRuntime) -> Flask:
    settings = runtime.settings
    ctx: IdentityContext = runtime.extras["identity"]

    def configure(app: Flask) -> None:
        app.config.update(
            SESSION_COOKIE_NAME=SESSION_COOKIE,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
            PERMANENT_SESSION_LIFETIME=ctx.config.login_session_lifetime,
        )

    app = create_service_app(
        settings,
        title="Bildungsportal – identity",
        description=(
            "Accounts, login and activation, and the OpenID Connect provider of the Bildungsportal. "
            "The OIDC endpoints (discovery, jwks, authorize, token, revoke, userinfo, logout) are "
            "described by /.well-known/openid-configuration."
        ),
        blueprints=[api.blp],
        readiness_checks=runtime.readiness_checks(),
        token_validator=runtime.token_validator,
        configure=configure,
    )
    # Without a configured key, every worker signs sessions with the key kept
    # in the database (loaded on the first request, see ScriptRootSessionInterface).
    app.secret_key = settings.secret_key or None
    app.session_interface = ScriptRootSessionInterface(ctx.keys)

    register_ui(app)
    app.register_blueprint(oidc.bp)
    app.register_blueprint(pages.bp)
    build_authorization_server(app, ctx)

    csrf = CSRFProtect(app)
    # Clients authenticate themselves at these endpoints, and bearer tokens
    # are not sent by browsers on their own: no CSRF token applies.
    for view in (oidc.token, oidc.revoke, oidc.userinfo):
        csrf.exempt(view)
    csrf.exempt(api.blp)

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
        register_clients(ctx)
    except SQLAlchemyError:
        # Not migrated yet: `bp-identity migrate` (and seed) register the clients too.
        log.warning("could not register the OIDC clients yet; the database is not ready")
    return app


def create_app() -> Flask:
    """For gunicorn: ``gunicorn 'identity.entrypoints.app:create_app()'``."""
    from identity.bootstrap import bootstrap

    return bootstrap().create_app()

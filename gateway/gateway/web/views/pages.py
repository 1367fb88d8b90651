"""Start page / Übersicht, help, and the liveness probe."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, render_template

from gateway.web.auth import current_user
from gateway.web.navigation import is_apprentice, is_company_user
from gateway.web.services import ServiceError
from gateway.web.views.common import services

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    user = current_user()
    if user is None:
        settings = current_app.extensions["web.settings"]
        # identity's page, reached in the browser under the public issuer URL.
        return render_template(
            "web/start.html",
            page_title="Willkommen",
            activate_url=f"{settings.issuer}/activate",
            register_url=f"{settings.issuer}/register",
        )
    unread_count = 0
    documents_error = None
    if is_company_user(user) or is_apprentice(user):
        try:
            unread_count = len(services().documents(unread=True))
        except ServiceError as error:
            # The overview still shows; only the notice cannot be computed.
            documents_error = error.message
    return render_template(
        "web/overview.html",
        page_title="Übersicht",
        unread_count=unread_count,
        documents_error=documents_error,
    )


@bp.get("/hilfe")
def help_page() -> str:
    return render_template(
        "web/help.html",
        page_title="Hilfe und häufige Fragen",
        cutoff=current_app.extensions["web.settings"].digital_confirmation_cutoff,
    )


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")

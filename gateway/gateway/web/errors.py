"""German error pages; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from chassis.errors import is_unavailable
from gateway.web.auth import end_local_session
from gateway.web.services import UNAVAILABLE, ServiceError

log = logging.getLogger(__name__)

PAGES = {
    400: ("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden."),
    403: ("Kein Zugriff", "Sie haben keine Berechtigung für diese Seite."),
    404: ("Seite nicht gefunden", "Die gewünschte Seite oder der Eintrag wurde nicht gefunden."),
    405: ("Nicht erlaubt", "Diese Aktion ist hier nicht möglich."),
    413: ("Zu groß", "Die gesendeten Daten sind zu groß."),
    429: ("Zu viele Anfragen", "Bitte warten Sie einen Moment und versuchen Sie es erneut."),
    500: ("Ein Fehler ist aufgetreten", "Bitte versuchen Sie es später erneut."),
    503: ("Dienst nicht erreichbar", UNAVAILABLE),
}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    title, default = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    body = render_template("web/error.html", page_title=title, status=status, message=message or default)
    return body, status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[str, int]:
        return error_page(
            400,
            "Das Formular ist abgelaufen oder wurde nicht von dieser Seite gesendet. "
            "Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
        )

    @app.errorhandler(401)
    def _unauthorized(_error: HTTPException) -> Response:
        return redirect(url_for("auth.login"))

    @app.errorhandler(ServiceError)
    def _service(error: ServiceError) -> Response | tuple[str, int]:
        if error.status == 401:
            # identity no longer accepts the token (revoked, locked account).
            end_local_session(expired=True)
            return redirect(url_for("pages.index"))
        if error.status in (403, 404):
            return error_page(error.status)
        if error.status >= 500:
            body, status = error_page(503, error.message)
            return Response(body, status, headers={"Retry-After": "10"})
        return error_page(error.status, error.message)

    def _unavailable() -> Response:
        body, status = error_page(503)
        return Response(body, status, headers={"Retry-After": "10"})

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError) -> Response | tuple[str, int]:
        if is_unavailable(error):
            # The web database (sessions) is down: a 503, not a 500 (DESIGN §2 rule 9),
            # and one log line, not a traceback per request.
            log.error("web database unavailable: %s", type(error).__name__)
            return _unavailable()
        log.error("web database error", exc_info=error)
        return error_page(500)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        original = getattr(error, "original_exception", None)
        if isinstance(original, SQLAlchemyError):
            return _database(original)
        return error_page(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unexpected error", exc_info=error)
        return error_page(500)

"""Postfach (Entwicklung): the embedded mode's SMTP sink, only when BP_MAIL_SINK_DIR is set."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template

log = logging.getLogger(__name__)

bp = Blueprint("mailbox", __name__, url_prefix="/postfach")


def _directory() -> Path:
    directory = current_app.extensions["web.settings"].mail_sink_dir
    if directory is None:
        abort(404)
    return directory


def _sink() -> Any | None:
    """The notifications package's reader, or None where it is not installed."""
    try:
        from notifications.adapters import mail_sink
    except ImportError:
        log.warning("mail sink reader not installed; Postfach shows nothing")
        return None
    return mail_sink


@bp.get("")
def index() -> str:
    directory = _directory()
    sink = _sink()
    mails = sink.read_mails(directory, limit=200) if sink is not None else []
    return render_template(
        "web/mailbox.html", page_title="Postfach (Entwicklung)", mails=mails, available=sink is not None
    )


@bp.get("/<mail_id>")
def show(mail_id: str) -> str:
    directory = _directory()
    sink = _sink()
    try:
        mail = sink.read_mail(directory, mail_id) if sink is not None else None
    except (OSError, ValueError, LookupError):
        mail = None  # unreadable: as good as not there
    if mail is None:
        abort(404)
    return render_template("web/mail.html", page_title=mail.subject or "(ohne Betreff)", mail=mail)

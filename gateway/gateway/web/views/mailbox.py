"""Postfach (Entwicklung): the embedded mode's SMTP sink, a development aid.

It shows every mail the portal sent, reset and activation links included, to
whoever opens it, so it exists only on a developer's own machine: a sink folder
is configured (BP_MAIL_SINK_DIR), the portal listens on a loopback address only
(BP_HOST), and the request itself comes from loopback. Anything else is a 404,
as if the page did not exist.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from gateway.web.config import WebSettings, is_loopback

log = logging.getLogger(__name__)

bp = Blueprint("mailbox", __name__, url_prefix="/postfach")

PAGE_TITLE = "Postfach (Entwicklung)"
MAIL_SINK_MODULE = "notifications.adapters.mail_sink"


def mailbox_available() -> bool:
    """Whether this request may see the development mailbox (and its link)."""
    settings: WebSettings = current_app.extensions["web.settings"]
    return settings.mailbox_dir is not None and is_loopback(request.remote_addr)


def _directory() -> Path:
    directory = current_app.extensions["web.settings"].mailbox_dir
    if directory is None or not mailbox_available():
        abort(404)
    return directory


def _sink() -> Any | None:
    """notifications' reader of the sink's files, or None where it is not installed.

    Loaded by name at run time, as the embedded runner loads the services: the
    UI depends on no service's code (it talks HTTP), and this development aid
    exists only where the embedded mode installed notifications next to it.
    """
    try:
        return importlib.import_module(MAIL_SINK_MODULE)
    except ImportError:
        log.warning("mail sink reader not installed; Postfach shows nothing")
        return None


@bp.get("")
def index() -> str:
    directory = _directory()
    sink = _sink()
    mails = sink.read_mails(directory, limit=200) if sink is not None else []
    return render_template("web/mailbox.html", page_title=PAGE_TITLE, mails=mails, available=sink is not None)


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

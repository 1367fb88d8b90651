"""Dokumente / Profil – Dokumente, and opening a PDF."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from flask import Blueprint, Response, abort, render_template, stream_with_context

from chassis.auth import Principal
from gateway.web.auth import current_user, require
from gateway.web.navigation import is_apprentice, is_clerk, is_company_user
from gateway.web.views.common import services

bp = Blueprint("documents", __name__, url_prefix="/dokumente")


def _has_documents(user: Principal) -> bool:
    return is_company_user(user) or is_apprentice(user)


@bp.get("")
@require(_has_documents)
def index() -> str:
    user = current_user()
    assert user is not None
    title = "Profil – Dokumente" if is_company_user(user) else "Dokumente"
    documents = sorted(
        services().documents(),
        key=lambda d: (not d.unread, -(d.issued_at.timestamp() if d.issued_at else 0)),
    )
    return render_template("web/documents.html", page_title=title, documents=documents)


def _may_open_documents(user: Principal) -> bool:
    # The chamber opens documents too (e.g. to print an access letter for the post);
    # the documents service decides about each one.
    return _has_documents(user) or is_clerk(user)


@bp.get("/<document_id>")
@require(_may_open_documents)
def open_pdf(document_id: str) -> Response:
    try:
        uuid.UUID(document_id)
    except ValueError:
        abort(404)
    # documents records the first opening (read receipt) when it serves the content.
    pdf = services().document_content(document_id)

    def chunks() -> Iterator[bytes]:
        try:
            yield from pdf.chunks
        finally:
            if pdf.close is not None:
                pdf.close()

    response = Response(stream_with_context(chunks()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{pdf.filename}"'
    if pdf.length and pdf.length.isdigit():
        response.headers["Content-Length"] = pdf.length
    return response

"""The notices API: a caller sees and marks only their own notices.

Access (decided here, from the token's claims):
- apprentices: notices addressed to their Azubinummer (``apprentice_number`` claim);
- company administrators and Verwalter: notices of their companies (``company_roles``);
  Ausbilder get none, since company documents are not theirs to read (DESIGN §4);
- chamber staff: none. Notices are a recipient's own inbox, not a register to browse.
Someone else's notice answers 404, so that its existence stays private.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from chassis.auth import Principal, current_principal, not_found
from notifications.domain.model import Notice, NoticeAudience, audience_from_claims
from notifications.entrypoints.schemas import NoticeListSchema, NoticeQuerySchema, NoticeSchema
from notifications.service_layer import services

blp = Blueprint(
    "notices",
    __name__,
    url_prefix="/notices",
    description="In-portal notices: 'Neues Dokument' and the like, with read/unread per person.",
)

AUTH = [{"bearerAuth": []}]


def _audience(principal: Principal) -> NoticeAudience:
    return audience_from_claims(principal.apprentice_number, principal.company_roles)


def _uow_factory() -> Any:
    return current_app.extensions["notifications.uow_factory"]


def _dump(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id,
        "document_id": notice.document_id,
        "recipient_kind": notice.recipient_kind.value,
        "company_number": notice.company_number,
        "apprentice_number": notice.apprentice_number,
        "title": notice.title,
        "message": notice.message,
        "created_at": notice.created_at,
        "read": notice.read_at is not None,
        "read_at": notice.read_at,
    }


@blp.route("", methods=["GET"])
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, NoticeListSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.doc(security=AUTH)
def list_notices(query: dict[str, Any]) -> dict[str, Any]:
    """The caller's notices, newest first, and how many are unread."""
    principal = current_principal()
    page = services.list_notices(
        _uow_factory(),
        _audience(principal),
        principal.subject,
        unread_only=query["unread_only"],
        limit=query["limit"],
    )
    return {"items": [_dump(n) for n in page.items], "unread_count": page.unread_count}


@blp.route("/<uuid:notice_id>/read", methods=["POST"])
@blp.response(200, NoticeSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such notice for the caller.")
@blp.doc(security=AUTH)
def mark_read(notice_id: uuid.UUID) -> dict[str, Any]:
    """Mark one of the caller's notices as read (idempotent: the first read time stays)."""
    principal = current_principal()
    try:
        notice = services.mark_notice_read(
            _uow_factory(), _audience(principal), principal.subject, str(notice_id)
        )
    except services.NoticeNotFound:
        raise not_found("There is no such notice for you.") from None
    return _dump(notice)

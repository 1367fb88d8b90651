"""The notices API: views turn requests into queries and commands for the message bus.

Who sees which notice is decided in ``notifications.domain.access``; someone else's
notice answers 404 (``chassis.domain.NotFound``), so that its existence stays private.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint

from chassis.app import current_runtime
from chassis.auth import current_principal
from chassis.paging import page_response, page_schema
from notifications.bootstrap import NotificationsRuntime
from notifications.domain.commands import MarkNoticeRead
from notifications.domain.model import ReaderNotice
from notifications.domain.queries import CountUnreadNotices, ListNotices
from notifications.entrypoints.schemas import NoticeQuerySchema, NoticeSchema, UnreadCountSchema

blp = Blueprint(
    "notices",
    __name__,
    url_prefix="/notices",
    description="In-portal notices: 'Neues Dokument' and the like, with read/unread per person.",
)

AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]


@blp.route("", methods=["GET"])
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, page_schema(NoticeSchema))
@blp.alt_response(401, description="No valid access token.")
@blp.doc(security=AUTH)
def list_notices(query: dict[str, Any]) -> Any:
    """The caller's notices, newest first (apprentices: their own; company Administratoren and
    Verwalter: their companies'; everyone else: none)."""
    runtime = current_runtime(NotificationsRuntime)
    page = runtime.bus.handle(
        ListNotices(current_principal(), query["page"], unread_only=query["unread_only"])
    )
    return page_response(page)


@blp.route("/unread-count", methods=["GET"])
@blp.response(200, UnreadCountSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.doc(security=AUTH)
def unread_count() -> dict[str, int]:
    """How many of the caller's notices the caller has not read."""
    runtime = current_runtime(NotificationsRuntime)
    return {"unread_count": runtime.bus.handle(CountUnreadNotices(current_principal()))}


@blp.route("/<uuid:notice_id>/read", methods=["POST"])
@blp.response(200, NoticeSchema)
@blp.alt_response(401, description="No valid access token.")
@blp.alt_response(404, description="No such notice for the caller.")
@blp.doc(security=AUTH)
def mark_read(notice_id: uuid.UUID) -> ReaderNotice:
    """Mark one of the caller's notices as read (idempotent: the first read time stays)."""
    runtime = current_runtime(NotificationsRuntime)
    notice: ReaderNotice = runtime.bus.handle(MarkNoticeRead(current_principal(), str(notice_id)))
    return notice


BLUEPRINTS = [blp]

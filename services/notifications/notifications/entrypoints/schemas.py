"""Marshmallow schemas of the notices API (they also make its OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from chassis.paging import PageQuerySchema


class NoticeSchema(Schema):
    """A ``ReaderNotice``: the notice and whether the caller has read it."""

    id = fields.UUID(required=True, attribute="notice.id")
    document_id = fields.UUID(
        required=True,
        attribute="notice.document_id",
        metadata={"description": "The document in 'Dokumente'."},
    )
    recipient_kind = fields.String(
        required=True, attribute="notice.recipient_kind", validate=validate.OneOf(["company", "apprentice"])
    )
    company_number = fields.String(allow_none=True, attribute="notice.company_number")
    apprentice_number = fields.String(allow_none=True, attribute="notice.apprentice_number")
    title = fields.String(
        required=True,
        attribute="notice.title",
        metadata={"example": "Neues Dokument: Eintragungsbestätigung"},
    )
    message = fields.String(required=True, attribute="notice.message")
    created_at = fields.AwareDateTime(required=True, attribute="notice.created_at")
    read = fields.Boolean(required=True, metadata={"description": "Whether the caller has read it."})
    read_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the caller first read it."}
    )


class NoticeQuerySchema(PageQuerySchema):
    """``cursor`` and ``limit`` of every list, and ``unread_only``.

    Loads ``{"page": PageRequest, "unread_only": bool}``.
    """

    unread_only = fields.Boolean(
        load_default=False, metadata={"description": "Only the notices the caller has not read."}
    )

    # Replaces PageQuerySchema's hook of the same name: the page request and the filter.
    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        unread_only = data.pop("unread_only")
        return {"page": super()._request(data, **kwargs), "unread_only": unread_only}


class UnreadCountSchema(Schema):
    unread_count = fields.Integer(
        required=True, metadata={"description": "All of the caller's unread notices, not one page of them."}
    )

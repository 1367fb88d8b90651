"""Marshmallow schemas of the notices API (they also make its OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class NoticeSchema(Schema):
    id = fields.UUID(required=True)
    document_id = fields.UUID(required=True, metadata={"description": "The document in 'Dokumente'."})
    recipient_kind = fields.String(required=True, validate=validate.OneOf(["company", "apprentice"]))
    company_number = fields.String(allow_none=True)
    apprentice_number = fields.String(allow_none=True)
    title = fields.String(required=True, metadata={"example": "Neues Dokument: Eintragungsbestätigung"})
    message = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    read = fields.Boolean(required=True, metadata={"description": "Whether the caller has read it."})
    read_at = fields.AwareDateTime(allow_none=True)


class NoticeListSchema(Schema):
    items = fields.List(fields.Nested(NoticeSchema), required=True)
    unread_count = fields.Integer(
        required=True, metadata={"description": "All unread notices, not only listed ones."}
    )


class NoticeQuerySchema(Schema):
    unread_only = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))

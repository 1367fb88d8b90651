"""Marshmallow schemas of the documents API (they also generate its OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from chassis.fields import Text
from chassis.paging import PageQuerySchema
from documents.domain.model import RECIPIENT_KINDS, DocumentFilter


class DocumentQuerySchema(PageQuerySchema):
    """``cursor`` and ``limit`` of every list, and the filters of "Dokumente".

    Loads ``{"page": PageRequest, "filters": DocumentFilter}``.
    """

    unread = fields.Boolean(
        metadata={
            "description": "true: only documents not yet opened by their recipient; false: only opened ones."
        }
    )
    contract_id = fields.UUID()
    company_number = Text(validate=validate.Length(min=1, max=20))
    apprentice_number = Text(validate=validate.Length(min=1, max=20))
    recipient_kind = fields.String(validate=validate.OneOf(RECIPIENT_KINDS))

    # Replaces PageQuerySchema's hook of the same name: the page request and the filters.
    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        filters = DocumentFilter(
            unread=data.pop("unread", None),
            contract_id=data.pop("contract_id", None),
            company_number=data.pop("company_number", None),
            apprentice_number=data.pop("apprentice_number", None),
            recipient_kind=data.pop("recipient_kind", None),
        )
        return {"page": super()._request(data, **kwargs), "filters": filters}


class ContentQuerySchema(Schema):
    disposition = fields.String(
        load_default="inline",
        validate=validate.OneOf(["inline", "attachment"]),
        metadata={"description": "inline: show in the browser; attachment: download."},
    )


class DocumentSchema(Schema):
    id = fields.UUID(dump_only=True)
    title = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"description": "e.g. registration_confirmation"})
    contract_id = fields.UUID(dump_only=True, allow_none=True)
    recipient_kind = fields.String(dump_only=True, metadata={"description": "company or apprentice"})
    issued_at = fields.AwareDateTime(dump_only=True)
    first_opened_at = fields.AwareDateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "First opening by the recipient (read receipt)."},
    )
    opened = fields.Boolean(dump_only=True)


class DocumentDetailSchema(DocumentSchema):
    recipient_name = fields.String(dump_only=True)
    company_number = fields.String(dump_only=True, allow_none=True)
    apprentice_number = fields.String(dump_only=True, allow_none=True)
    filename = fields.String(dump_only=True)
    media_type = fields.String(dump_only=True)
    size = fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "bytes of the PDF; null until it is rendered on the first opening"},
    )
    sha256 = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "SHA-256 of the PDF (its ETag); null until it is rendered on the first opening"
        },
    )

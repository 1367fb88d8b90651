"""Marshmallow schemas of the documents API (they also generate its OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from chassis.fields import Text
from documents.domain.model import RECIPIENT_KINDS


class UtcDateTime(fields.DateTime):
    """Always an offset in the output: SQLite (embedded mode) hands back naive UTC values."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DocumentQuerySchema(Schema):
    unread = fields.Boolean(
        metadata={
            "description": "true: only documents not yet opened by their recipient; false: only opened ones."
        }
    )
    contract_id = fields.UUID()
    company_number = Text(validate=validate.Length(min=1, max=20))
    apprentice_number = Text(validate=validate.Length(min=1, max=20))
    recipient_kind = fields.String(validate=validate.OneOf(RECIPIENT_KINDS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


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
    issued_at = UtcDateTime(dump_only=True)
    first_opened_at = UtcDateTime(
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
    size = fields.Integer(dump_only=True, metadata={"description": "bytes"})
    sha256 = fields.String(dump_only=True)

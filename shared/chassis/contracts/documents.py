"""Events produced by documents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from marshmallow import fields, validate

from chassis.contracts.common import StrictSchema
from chassis.messages import IntegrationEvent

RECIPIENT_KINDS = ("company", "apprentice")


class RecipientSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(RECIPIENT_KINDS))
    company_number = fields.String(load_default=None, allow_none=True)
    apprentice_number = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)


class DocumentIssuedV1(StrictSchema):
    """A document is ready for its recipient in "Dokumente"."""

    document_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["registration_confirmation"]))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contract_id = fields.UUID(load_default=None, allow_none=True)
    recipient = fields.Nested(RecipientSchema, required=True)
    issued_at = fields.AwareDateTime(required=True)


class DocumentOpenedV1(StrictSchema):
    """A document was opened for the first time (read receipt with date and time)."""

    document_id = fields.UUID(required=True)
    kind = fields.String(required=True)
    contract_id = fields.UUID(load_default=None, allow_none=True)
    recipient_kind = fields.String(required=True, validate=validate.OneOf(RECIPIENT_KINDS))
    opened_at = fields.AwareDateTime(required=True)
    opened_by = fields.UUID(required=True)


@dataclass(frozen=True)
class Recipient:
    kind: str
    company_number: str | None
    apprentice_number: str | None
    name: str
    email: str


@dataclass(frozen=True)
class DocumentIssued(IntegrationEvent):
    """Typed payload of ``documents.document.issued`` v1."""

    TYPE = "documents.document.issued"
    VERSION = 1

    document_id: uuid.UUID
    kind: str
    title: str
    contract_id: uuid.UUID | None
    recipient: Recipient
    issued_at: datetime


@dataclass(frozen=True)
class DocumentOpened(IntegrationEvent):
    """Typed payload of ``documents.document.opened`` v1."""

    TYPE = "documents.document.opened"
    VERSION = 1

    document_id: uuid.UUID
    kind: str
    contract_id: uuid.UUID | None
    recipient_kind: str
    opened_at: datetime
    opened_by: uuid.UUID

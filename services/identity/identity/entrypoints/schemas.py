"""marshmallow schemas of identity's REST API."""

from __future__ import annotations

from marshmallow import Schema, fields


class AccountSchema(Schema):
    """A person's own account, as identity knows it."""

    id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True)
    username = fields.String(allow_none=True)
    apprentice_number = fields.String(allow_none=True, metadata={"description": "Azubinummer"})
    status = fields.String(required=True, metadata={"enum": ["pending_activation", "active", "locked"]})
    roles = fields.List(fields.String(), required=True)
    company_roles = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "company_number -> roles (admin, manager, trainer)"},
    )
    activated_at = fields.AwareDateTime(allow_none=True)
    last_login_at = fields.AwareDateTime(allow_none=True)

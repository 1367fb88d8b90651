"""marshmallow schemas of identity's REST API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chassis.principal import COMPANY_ROLES


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
    service_rights = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        load_default=dict,
        metadata={"description": "company_number -> service rights (exam_registration)"},
    )
    activated_at = fields.AwareDateTime(allow_none=True)
    last_login_at = fields.AwareDateTime(allow_none=True)


# -- roles, rights, deputyships and contexts -------------------------------------------------------
class CompanyMemberSchema(Schema):
    """An account at a company: its roles and service rights there."""

    id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    roles = fields.List(fields.String(), required=True, metadata={"description": "admin, manager, trainer"})
    rights = fields.List(fields.String(), required=True, metadata={"description": "exam_registration"})


class AddCompanyMemberSchema(Schema):
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(sorted(COMPANY_ROLES)))


class CompanyServicesSchema(Schema):
    company_number = fields.String(required=True)
    services = fields.List(fields.String(), required=True, metadata={"description": "switched on"})


class SwitchServiceSchema(Schema):
    enabled = fields.Boolean(required=True)


class AdministrableSchema(Schema):
    """Welche Firmen darf ich administrieren?"""

    company_numbers = fields.List(fields.String(), required=True)


class ChamberMemberSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    roles = fields.List(fields.String(), required=True)


class EmailQuerySchema(Schema):
    email = fields.Email(required=True)


class NameDeputySchema(Schema):
    deputy_email = fields.Email(required=True)
    deputy_name = fields.String(load_default="", validate=validate.Length(max=200))
    company_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9A-Za-z-]{1,20}$")
    )
    company_roles = fields.List(
        fields.String(validate=validate.OneOf(["manager", "trainer"])),
        load_default=lambda: ["manager"],
        validate=validate.Length(min=1, max=2),
    )
    new_employee = fields.Boolean(load_default=False)


class DeputyshipSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.Function(lambda d: d.kind.value, required=True)
    status = fields.Function(lambda d: d.status.value, required=True)
    represented_account_id = fields.UUID(allow_none=True)
    company_number = fields.String(allow_none=True)
    deputy_email = fields.Email(required=True)
    deputy_name = fields.String(required=True)
    deputy_account_id = fields.UUID(allow_none=True)
    company_roles = fields.List(fields.String(), required=True)
    requested_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True)


class DeputyOverviewSchema(Schema):
    named = fields.List(fields.Nested(DeputyshipSchema), required=True)
    acting_for = fields.List(fields.Nested(DeputyshipSchema), required=True)


class ContextSchema(Schema):
    key = fields.String(required=True, metadata={"description": "company:<n>, role:<r> or deputy:<id>"})
    label = fields.String(required=True)


class ContextListSchema(Schema):
    items = fields.List(fields.Nested(ContextSchema), required=True)

"""Events produced by training-records."""

from __future__ import annotations

from marshmallow import fields, validate

from chassis.contracts.common import StrictSchema


class OccupationSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CompanyRefSchema(StrictSchema):
    company_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)


class ApprenticeRefSchema(StrictSchema):
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    birth_date = fields.Date(required=True)
    email = fields.Email(required=True)


class ContractRegisteredV1(StrictSchema):
    """A training contract was entered in the chamber's register ("eingetragen")."""

    contract_id = fields.UUID(required=True)
    contract_number = fields.String(required=True, validate=validate.Length(min=1, max=30))
    registered_on = fields.Date(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    occupation = fields.Nested(OccupationSchema, required=True)
    company = fields.Nested(CompanyRefSchema, required=True)
    apprentice = fields.Nested(ApprenticeRefSchema, required=True)

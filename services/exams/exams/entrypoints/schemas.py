from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    # Bounded: a huge offset would overflow the database's bigint.
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class RegisteredContractSchema(Schema):
    contract_id = fields.String(required=True)
    contract_number = fields.String(required=True)
    company_number = fields.String(required=True)
    company_name = fields.String(required=True)
    apprentice_name = fields.String(required=True)
    apprentice_birth_date = fields.Date(required=True)
    occupation_code = fields.String(required=True)
    occupation_title = fields.String(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    registered_on = fields.Date(required=True)

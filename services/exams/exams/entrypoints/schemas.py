from __future__ import annotations

from marshmallow import Schema, fields


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

"""Marshmallow schemas of the HTTP API; the OpenAPI document is generated from them.

Input schemas reject unknown fields (marshmallow 4 default) and blank text.
States are codes (``registered``, ``prepared``, ``active``); the UI shows the
German labels ("eingetragen", "vorbereitet", "aktiv").
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from chassis.fields import Text
from training_records.domain.model import AccountState, ContractState

NUMBER = validate.Regexp(r"^[0-9A-Za-z][0-9A-Za-z-]*$", error="Only letters, digits and hyphens.")


def _text(max_length: int, **kwargs: Any) -> Text:
    return Text(validate=validate.Length(max=max_length), **kwargs)


# -- input ------------------------------------------------------------------------------------
class CompanyInputSchema(Schema):
    company_number = Text(
        required=True,
        validate=[validate.Length(max=20), NUMBER],
        metadata={"description": "The chamber's Identnummer of the company."},
    )
    name = _text(200, metadata={"description": "Required when the company is not yet in the register."})
    email = fields.Email(
        validate=validate.Length(max=254),
        metadata={"description": "Required when the company is not yet in the register."},
    )
    street = _text(200)
    postal_code = Text(validate=validate.Regexp(r"^\d{5}$", error="A German postal code has five digits."))
    city = _text(100)


class ApprenticeInputSchema(Schema):
    first_name = _text(100, required=True)
    last_name = _text(100, required=True)
    birth_date = fields.Date(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))


class RegisterContractSchema(Schema):
    company = fields.Nested(
        CompanyInputSchema,
        required=True,
        metadata={
            "description": "A known company by its number alone; a new one with name and e-mail. "
            "Details given for a known company must match its master data."
        },
    )
    apprentice = fields.Nested(ApprenticeInputSchema, required=True)
    occupation_code = Text(required=True, validate=validate.Length(max=20))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    registered_on = fields.Date(
        metadata={"description": "Eintragungsdatum; today if omitted, earlier for historic entries."}
    )


def _page_args() -> dict[str, fields.Field]:
    return {
        "page": fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000)),
        "per_page": fields.Integer(load_default=20, validate=validate.Range(min=1, max=100)),
    }


ContractQuerySchema = Schema.from_dict(
    {
        **_page_args(),
        "company_number": Text(validate=validate.Length(max=20)),
        "occupation_code": Text(validate=validate.Length(max=20)),
        "apprentice_number": Text(validate=validate.Length(max=20)),
    },
    name="ContractQuery",
)
PageQuerySchema = Schema.from_dict(_page_args(), name="PageQuery")


# -- output -----------------------------------------------------------------------------------
class OccupationSchema(Schema):
    code = fields.String()
    title = fields.String()


class CompanySchema(Schema):
    company_number = fields.String()
    name = fields.String()
    email = fields.String()
    street = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)


class CompanyRefSchema(Schema):
    company_number = fields.String()
    name = fields.String()


class ApprenticeSchema(Schema):
    first_name = fields.String()
    last_name = fields.String()
    birth_date = fields.Date()
    email = fields.String()
    apprentice_number = fields.String(
        allow_none=True, metadata={"description": "Azubinummer, once identity has assigned it."}
    )
    account_state = fields.Enum(
        AccountState,
        by_value=True,
        metadata={"description": "none (noch kein Zugang), prepared (vorbereitet), active (aktiv)."},
    )
    account_activated_at = fields.AwareDateTime(allow_none=True)


class ConfirmationOpenedSchema(Schema):
    company = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the company first opened the Eintragungsbestätigung."}
    )
    apprentice = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When the apprentice first opened the Eintragungsbestätigung."},
    )


class ContractSchema(Schema):
    id = fields.UUID()
    contract_number = fields.String(metadata={"description": "Number in the register, e.g. 2026-000123."})
    state = fields.Enum(ContractState, by_value=True, metadata={"description": "registered (eingetragen)."})
    registered_on = fields.Date(metadata={"description": "Eintragungsdatum."})
    start_date = fields.Date()
    end_date = fields.Date()
    occupation = fields.Nested(OccupationSchema)
    company = fields.Nested(CompanyRefSchema)
    apprentice = fields.Nested(ApprenticeSchema)
    confirmation_opened_at = fields.Nested(ConfirmationOpenedSchema)


class _PageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ContractPageSchema(_PageSchema):
    items = fields.List(fields.Nested(ContractSchema))


class CompanyPageSchema(_PageSchema):
    items = fields.List(fields.Nested(CompanySchema))


class OccupationListSchema(Schema):
    items = fields.List(fields.Nested(OccupationSchema))

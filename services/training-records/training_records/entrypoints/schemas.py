"""Marshmallow schemas of the HTTP API; the OpenAPI document is generated from them.

Input schemas reject unknown fields (marshmallow 4 default) and blank text.
States are codes (``registered``, ``prepared``, ``active``); the UI shows the
German labels ("eingetragen", "vorbereitet", "aktiv").
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from chassis.fields import Text
from chassis.paging import PageQuerySchema, page_schema
from training_records.domain.model import AccountState, ContractState
from training_records.domain.queries import ContractFilters

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


class ContractQuerySchema(PageQuerySchema):
    """``cursor`` and ``limit`` of every list, and the filters of the contract list.

    Loads ``{"page": PageRequest, "filters": ContractFilters}``.
    """

    company_number = Text(validate=validate.Length(max=20))
    occupation_code = Text(validate=validate.Length(max=20))
    apprentice_number = Text(validate=validate.Length(max=20))

    # Replaces PageQuerySchema's hook of the same name: the page request and the filters.
    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        filters = ContractFilters(
            company_number=data.pop("company_number", None),
            occupation_code=data.pop("occupation_code", None),
            apprentice_number=data.pop("apprentice_number", None),
        )
        return {"page": super()._request(data, **kwargs), "filters": filters}


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


ContractPageSchema = page_schema(ContractSchema)
CompanyPageSchema = page_schema(CompanySchema)
OccupationPageSchema = page_schema(OccupationSchema)

"""Marshmallow schemas of the HTTP API; the OpenAPI document is generated from them.

Input schemas reject unknown fields (marshmallow 4 default) and blank text.
States are codes (``registered``, ``prepared``, ``active``); the UI shows the
German labels ("eingetragen", "vorbereitet", "aktiv").
"""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, post_load, validate

from chassis.fields import Text
from chassis.paging import PageQuerySchema, page_schema
from training_records.domain.commands import ContractTerms
from training_records.domain.import_rows import column_label
from training_records.domain.model import (
    AccountState,
    ChangeKind,
    ContractState,
    ImportStatus,
    TerminationReason,
)
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
    probation_months = fields.Integer(
        metadata={"description": "Probezeit in months (1-4, BBiG §20). Omitted only for historic entries."}
    )
    part_time = fields.Boolean(load_default=False, metadata={"description": "Teilzeitausbildung (BBiG §7a)."})
    shortened_by_months = fields.Integer(
        load_default=0, metadata={"description": "Verkürzung in months (0-12), e.g. for the Abitur."}
    )
    specialism = _text(200, metadata={"description": "Fachrichtung, where the occupation has them."})
    trainer_id = fields.UUID(metadata={"description": "The company's trainer responsible for the contract."})

    @post_load
    def _terms(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["terms"] = ContractTerms(
            probation_months=data.pop("probation_months", None),
            part_time=data.pop("part_time"),
            shortened_by_months=data.pop("shortened_by_months"),
            specialism=data.pop("specialism", None),
            trainer_id=data.pop("trainer_id", None),
        )
        return data


class ContractChangeSchema(Schema):
    kind = fields.Enum(
        ChangeKind,
        by_value=True,
        required=True,
        validate=validate.OneOf(
            [k for k in ChangeKind if k not in (ChangeKind.REGISTERED, ChangeKind.DETAILS_CORRECTED)]
        ),
        metadata={
            "description": "extended, shortened, interrupted, resumed, trainer_changed, completed, terminated."
        },
    )
    effective_on = fields.Date(metadata={"description": "The day it takes effect (default: today)."})
    end_date = fields.Date(
        metadata={"description": "The new end date (extended, shortened; resumed: optional)."}
    )
    trainer_id = fields.UUID(allow_none=True, metadata={"description": "trainer_changed: the new trainer."})
    reason = fields.Enum(
        TerminationReason,
        by_value=True,
        metadata={"description": "terminated: probation, by_apprentice, by_company, mutual, other."},
    )
    note = _text(500)


class CompanyRegistrationSchema(CompanyInputSchema):
    head_office_number = Text(validate=[validate.Length(max=20), NUMBER])


class CompanyChangeSchema(Schema):
    name = _text(200)
    email = fields.Email(validate=validate.Length(max=254))
    street = _text(200)
    postal_code = Text(validate=validate.Regexp(r"^\d{5}$", error="A German postal code has five digits."))
    city = _text(100)


class HeadOfficeSchema(Schema):
    head_office_number = Text(required=True, validate=[validate.Length(max=20), NUMBER])


class BranchReachSchema(Schema):
    enabled = fields.Boolean(required=True)


class TrainerInputSchema(Schema):
    first_name = _text(100, required=True)
    last_name = _text(100, required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    qualified = fields.Boolean(required=True, metadata={"description": "Holds the Ausbildereignung (AEVO)."})


class OccupationInputSchema(Schema):
    code = Text(required=True, validate=[validate.Length(max=20), NUMBER])
    title = _text(200, required=True)
    specialisms = fields.List(_text(200), load_default=list)
    duration_months = fields.Integer(validate=validate.Range(12, 48))
    split_final_exam = fields.Boolean()


class OccupationListQuerySchema(PageQuerySchema):
    include_retired = fields.Boolean(load_default=False)

    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        include_retired = data.pop("include_retired")
        return {"page": super()._request(data, **kwargs), "include_retired": include_retired}


class AtlasOfferSchema(Schema):
    places = fields.Integer(required=True, validate=validate.Range(0, 999))
    postal_code = Text(
        required=True, validate=validate.Regexp(r"^\d{5}$", error="A German postal code has five digits.")
    )
    city = _text(100, required=True)
    contact_name = _text(200)
    contact_email = fields.Email(validate=validate.Length(max=254))
    contact_phone = Text(
        validate=[
            validate.Length(max=40),
            validate.Regexp(r"^[0-9 +()/-]+$", error="Digits, spaces and + ( ) / - only."),
        ]
    )
    website = fields.Url(schemes={"https", "http"}, validate=validate.Length(max=300))


class AtlasConsentSchema(Schema):
    consent = fields.Boolean(required=True)


class AtlasSearchSchema(PageQuerySchema):
    occupation_code = Text(required=True, validate=validate.Length(max=20))
    place = Text(
        validate=[validate.Length(max=100)], metadata={"description": "A postcode (or its start) or a city."}
    )

    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        occupation_code, place = data.pop("occupation_code"), data.pop("place", None)
        return {"page": super()._request(data, **kwargs), "occupation_code": occupation_code, "place": place}


class ContractQuerySchema(PageQuerySchema):
    """``cursor`` and ``limit`` of every list, and the filters of the contract list.

    Loads ``{"page": PageRequest, "filters": ContractFilters}``.
    """

    company_number = Text(validate=validate.Length(max=20))
    occupation_code = Text(validate=validate.Length(max=20))
    apprentice_number = Text(validate=validate.Length(max=20))
    name = Text(
        validate=validate.Length(max=100), metadata={"description": "The apprentice's name, from its start."}
    )
    state = fields.Enum(ContractState, by_value=True)
    start_from = fields.Date()
    start_until = fields.Date()
    registered_from = fields.Date()
    registered_until = fields.Date()

    # Replaces PageQuerySchema's hook of the same name: the page request and the filters.
    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        filters = ContractFilters(
            **{
                name: data.pop(name, None)
                for name in (
                    "company_number",
                    "occupation_code",
                    "apprentice_number",
                    "name",
                    "state",
                    "start_from",
                    "start_until",
                    "registered_from",
                    "registered_until",
                )
            }
        )
        return {"page": super()._request(data, **kwargs), "filters": filters}


# -- output -----------------------------------------------------------------------------------
class OccupationRefSchema(Schema):
    code = fields.String()
    title = fields.String()


class OccupationSchema(OccupationRefSchema):
    specialisms = fields.List(fields.String())
    duration_months = fields.Integer(
        allow_none=True, metadata={"description": "Standard duration; null: unknown."}
    )
    split_final_exam = fields.Boolean(
        allow_none=True, metadata={"description": "Abschlussprüfung in Teil 1 and Teil 2; null: unknown."}
    )
    retired_on = fields.Date(allow_none=True)


class CompanySchema(Schema):
    company_number = fields.String()
    name = fields.String()
    email = fields.String()
    street = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    head_office_number = fields.String(
        allow_none=True, metadata={"description": "Its Zentrale, if a branch."}
    )
    branch_reach = fields.Boolean(metadata={"description": "A head office whose roles reach its branches."})
    atlas_consent = fields.Boolean(metadata={"description": "Consents to the public Ausbildungsatlas."})


class AssignedContractSchema(Schema):
    id = fields.UUID()
    contract_number = fields.String()
    apprentice_name = fields.String()


class TrainerSchema(Schema):
    id = fields.UUID()
    company_number = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    email = fields.String()
    qualified = fields.Boolean()
    contracts = fields.List(fields.Nested(AssignedContractSchema))
    account_state = fields.Enum(
        AccountState,
        by_value=True,
        metadata={
            "description": "The trainer's portal account: none, invited (eingeladen) or active (aktiv)."
        },
    )


class TrainerRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class ContractTermsSchema(Schema):
    specialism = fields.String(allow_none=True)
    probation_months = fields.Integer(allow_none=True)
    part_time = fields.Boolean()
    shortened_by_months = fields.Integer()


class ContractChangeViewSchema(Schema):
    id = fields.UUID()
    kind = fields.Enum(ChangeKind, by_value=True)
    effective_on = fields.Date()
    recorded_at = fields.AwareDateTime()
    recorded_by = fields.String(allow_none=True)
    details = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))


class ContractHistorySchema(Schema):
    items = fields.List(fields.Nested(ContractChangeViewSchema))


class AtlasEntrySchema(Schema):
    company_number = fields.String()
    occupation_code = fields.String()
    places = fields.Integer()
    postal_code = fields.String()
    city = fields.String()
    contact_name = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)


class AtlasProfileSchema(Schema):
    company_number = fields.String()
    consent = fields.Boolean()
    entries = fields.List(fields.Nested(AtlasEntrySchema))


class AtlasHitSchema(Schema):
    company_name = fields.String()
    occupation_title = fields.String()
    entry = fields.Nested(AtlasEntrySchema)


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
        metadata={
            "description": "none (noch kein Zugang), prepared (vorbereitet), invited (eingeladen), active (aktiv)."
        },
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
    state = fields.Enum(
        ContractState,
        by_value=True,
        metadata={
            "description": "registered (eingetragen), interrupted (unterbrochen), completed (abgeschlossen), "
            "terminated (vorzeitig gelöst)."
        },
    )
    registered_on = fields.Date(metadata={"description": "Eintragungsdatum."})
    start_date = fields.Date()
    end_date = fields.Date()
    occupation = fields.Nested(OccupationRefSchema)
    company = fields.Nested(CompanyRefSchema)
    apprentice = fields.Nested(ApprenticeSchema)
    confirmation_opened_at = fields.Nested(ConfirmationOpenedSchema)
    terms = fields.Nested(ContractTermsSchema)
    trainer = fields.Nested(TrainerRefSchema, allow_none=True)
    interrupted_since = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    termination_reason = fields.Enum(TerminationReason, by_value=True, allow_none=True)
    head_office_number = fields.String(allow_none=True)


ContractPageSchema = page_schema(ContractSchema)
CompanyPageSchema = page_schema(CompanySchema)
OccupationPageSchema = page_schema(OccupationSchema)
TrainerPageSchema = page_schema(TrainerSchema)
AtlasHitPageSchema = page_schema(AtlasHitSchema)


class ImportUploadSchema(Schema):
    file = Upload(
        required=True, metadata={"description": "The export: .csv (UTF-8 or Windows-1252, ; or ,) or .xlsx."}
    )


class ImportJobSchema(Schema):
    id = fields.UUID()
    filename = fields.String()
    uploaded_at = fields.AwareDateTime()
    status = fields.Enum(
        ImportStatus,
        by_value=True,
        metadata={
            "description": "queued (wartet), running (läuft), succeeded (abgeschlossen), failed (abgebrochen)."
        },
    )
    total_rows = fields.Integer()
    done_rows = fields.Integer()
    error_count = fields.Integer(metadata={"description": "Rows not imported (see the report)."})
    created_count = fields.Integer()
    updated_count = fields.Integer()
    unchanged_count = fields.Integer()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    failure = fields.String(
        allow_none=True, metadata={"description": "Why the file as a whole failed (a code)."}
    )
    failure_detail = fields.String(allow_none=True)


class ImportProgressSchema(Schema):
    job = fields.Nested(ImportJobSchema)
    percent = fields.Integer()
    seconds_left = fields.Float(allow_none=True, metadata={"description": "Estimated from the pace so far."})


class ImportRowErrorSchema(Schema):
    line = fields.Integer()
    field = fields.String(
        metadata={"description": "The column at fault (its key, see docs/import-format.md)."}
    )
    column = fields.Function(
        lambda error: column_label(error.field),
        metadata={"description": "The column's German header, as in the clerk's file."},
    )
    code = fields.String()
    message = fields.String(metadata={"description": "German, as in the report."})


ImportPageSchema = page_schema(ImportProgressSchema)
ImportErrorPageSchema = page_schema(ImportRowErrorSchema)

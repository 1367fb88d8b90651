"""Events produced by training-records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from marshmallow import fields, validate

from chassis.contracts.common import StrictSchema
from chassis.messages import IntegrationEvent


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


@dataclass(frozen=True)
class OccupationRef:
    code: str
    title: str


@dataclass(frozen=True)
class CompanyRef:
    company_number: str
    name: str
    email: str


@dataclass(frozen=True)
class ApprenticeRef:
    first_name: str
    last_name: str
    birth_date: date
    email: str


@dataclass(frozen=True)
class ContractRegistered(IntegrationEvent):
    """Typed payload of ``training.contract.registered`` v1 (schema: ``ContractRegisteredV1``)."""

    TYPE = "training.contract.registered"
    VERSION = 1

    contract_id: uuid.UUID
    contract_number: str
    registered_on: date
    start_date: date
    end_date: date
    occupation: OccupationRef
    company: CompanyRef
    apprentice: ApprenticeRef

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


# -- companies ---------------------------------------------------------------------------------------


class CompanyDataV1(StrictSchema):
    """A company's master data as the register holds it (registered and changed carry all of it)."""

    company_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    street = fields.String(required=True, allow_none=True)
    postal_code = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)
    head_office_number = fields.String(required=True, allow_none=True)


@dataclass(frozen=True)
class CompanyData(IntegrationEvent):
    """The fields of ``CompanyDataV1``, shared by the company events that carry all master data."""

    company_number: str
    name: str
    email: str
    street: str | None
    postal_code: str | None
    city: str | None
    head_office_number: str | None


@dataclass(frozen=True)
class CompanyRegistered(CompanyData):
    """Typed payload of ``training.company.registered`` v1 (schema: ``CompanyDataV1``)."""

    TYPE = "training.company.registered"
    VERSION = 1


@dataclass(frozen=True)
class CompanyChanged(CompanyData):
    """Typed payload of ``training.company.changed`` v1 (schema: ``CompanyDataV1``): the data after."""

    TYPE = "training.company.changed"
    VERSION = 1


class BranchV1(StrictSchema):
    branch_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    head_office_number = fields.String(required=True, validate=validate.Length(min=1, max=20))


@dataclass(frozen=True)
class BranchAssigned(IntegrationEvent):
    """Typed payload of ``training.company.branch_assigned`` v1 (schema: ``BranchV1``)."""

    TYPE = "training.company.branch_assigned"
    VERSION = 1

    branch_number: str
    head_office_number: str


@dataclass(frozen=True)
class BranchRemoved(IntegrationEvent):
    """Typed payload of ``training.company.branch_removed`` v1 (schema: ``BranchV1``)."""

    TYPE = "training.company.branch_removed"
    VERSION = 1

    branch_number: str
    head_office_number: str


class BranchReachV1(StrictSchema):
    company_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    enabled = fields.Boolean(required=True)


@dataclass(frozen=True)
class BranchReachChanged(IntegrationEvent):
    """Typed payload of ``training.company.branch_reach_changed`` v1 (schema: ``BranchReachV1``)."""

    TYPE = "training.company.branch_reach_changed"
    VERSION = 1

    company_number: str
    enabled: bool


# -- occupations -------------------------------------------------------------------------------------


class OccupationAddedV1(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    specialisms = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True)
    duration_months = fields.Integer(required=True, allow_none=True)
    split_final_exam = fields.Boolean(required=True, allow_none=True)


@dataclass(frozen=True)
class OccupationAdded(IntegrationEvent):
    """Typed payload of ``training.occupation.added`` v1 (schema: ``OccupationAddedV1``)."""

    TYPE = "training.occupation.added"
    VERSION = 1

    code: str
    title: str
    specialisms: list[str]
    duration_months: int | None
    split_final_exam: bool | None


class OccupationRetiredV1(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    retired_on = fields.Date(required=True)


@dataclass(frozen=True)
class OccupationRetired(IntegrationEvent):
    """Typed payload of ``training.occupation.retired`` v1 (schema: ``OccupationRetiredV1``)."""

    TYPE = "training.occupation.retired"
    VERSION = 1

    code: str
    retired_on: date


# -- trainers ----------------------------------------------------------------------------------------


class TrainerV1(StrictSchema):
    trainer_id = fields.UUID(required=True)
    company_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(required=True)
    qualified = fields.Boolean(required=True)


@dataclass(frozen=True)
class TrainerData(IntegrationEvent):
    """The fields of ``TrainerV1``, shared by the trainer events."""

    trainer_id: uuid.UUID
    company_number: str
    first_name: str
    last_name: str
    email: str
    qualified: bool


@dataclass(frozen=True)
class TrainerAdded(TrainerData):
    """Typed payload of ``training.trainer.added`` v1 (schema: ``TrainerV1``)."""

    TYPE = "training.trainer.added"
    VERSION = 1


@dataclass(frozen=True)
class TrainerChanged(TrainerData):
    """Typed payload of ``training.trainer.changed`` v1 (schema: ``TrainerV1``): the data after."""

    TYPE = "training.trainer.changed"
    VERSION = 1


@dataclass(frozen=True)
class TrainerRemoved(TrainerData):
    """Typed payload of ``training.trainer.removed`` v1 (schema: ``TrainerV1``): the data as it was."""

    TYPE = "training.trainer.removed"
    VERSION = 1


# -- the contract's life -------------------------------------------------------------------------------

CONTRACT_CHANGES = (
    "extended",
    "shortened",
    "interrupted",
    "resumed",
    "trainer_changed",
    "details_corrected",
    "completed",
    "terminated",
)
CONTRACT_STATES = ("registered", "interrupted", "completed", "terminated")


class ContractChangedV1(StrictSchema):
    """A step in a registered contract's life; carries the contract's state and dates after it."""

    contract_id = fields.UUID(required=True)
    contract_number = fields.String(required=True, validate=validate.Length(min=1, max=30))
    change = fields.String(required=True, validate=validate.OneOf(CONTRACT_CHANGES))
    effective_on = fields.Date(required=True)
    state = fields.String(required=True, validate=validate.OneOf(CONTRACT_STATES))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    trainer_id = fields.UUID(required=True, allow_none=True)
    termination_reason = fields.String(required=True, allow_none=True)


@dataclass(frozen=True)
class ContractChanged(IntegrationEvent):
    """Typed payload of ``training.contract.changed`` v1 (schema: ``ContractChangedV1``)."""

    TYPE = "training.contract.changed"
    VERSION = 1

    contract_id: uuid.UUID
    contract_number: str
    change: str
    effective_on: date
    state: str
    start_date: date
    end_date: date
    trainer_id: uuid.UUID | None
    termination_reason: str | None

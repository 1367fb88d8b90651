"""Events produced by identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from chassis.contracts.common import StrictSchema
from chassis.messages import IntegrationEvent


class ApprenticeAccountPreparedV1(StrictSchema):
    """The apprentice of a registered contract has an account (and an Azubinummer).

    A new or not yet activated account comes with a fresh one-time activation code:
    the one secret allowed in an event (one-time, short-lived, useful only with the
    Azubinummer). documents prints it into the apprentice's Eintragungsbestätigung;
    nothing else keeps it. An account that is already active comes with ``null``
    for code and expiry: the apprentice logs in with the access data they have.
    """

    account_id = fields.UUID(required=True)
    contract_id = fields.UUID(required=True)
    apprentice_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    activation_code = fields.String(required=True, allow_none=True, validate=validate.Length(min=8, max=64))
    activation_expires_at = fields.AwareDateTime(required=True, allow_none=True)
    email = fields.Email(required=True)

    @validates_schema
    def _code_and_expiry_together(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("activation_code") is None) != (data.get("activation_expires_at") is None):
            raise ValidationError("activation_code and activation_expires_at are both set or both null.")


class AccountActivatedV1(StrictSchema):
    """A person activated their account and set a password."""

    account_id = fields.UUID(required=True)
    apprentice_number = fields.String(load_default=None, allow_none=True)
    email = fields.Email(required=True)
    activated_at = fields.AwareDateTime(required=True)


class PasswordResetRequestedV1(StrictSchema):
    """An active account asked for a new password; notifications mails the link.

    ``reset_url`` carries a one-time token, valid until ``expires_at`` (one hour by
    default), until a new password is set through it, or until the person logs in
    with their old password. Only its SHA-256 hash stays with identity.
    """

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reset_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    expires_at = fields.AwareDateTime(required=True)


@dataclass(frozen=True)
class ApprenticeAccountPrepared(IntegrationEvent):
    """Typed payload of ``identity.apprentice_account.prepared`` v1."""

    TYPE = "identity.apprentice_account.prepared"
    VERSION = 1

    account_id: uuid.UUID
    contract_id: uuid.UUID
    apprentice_number: str
    activation_code: str | None = field(repr=False)  # one-time secret: never in a repr or traceback
    activation_expires_at: datetime | None
    email: str


@dataclass(frozen=True)
class AccountActivated(IntegrationEvent):
    """Typed payload of ``identity.account.activated`` v1."""

    TYPE = "identity.account.activated"
    VERSION = 1

    account_id: uuid.UUID
    apprentice_number: str | None
    email: str
    activated_at: datetime


@dataclass(frozen=True)
class PasswordResetRequested(IntegrationEvent):
    """Typed payload of ``identity.password_reset.requested`` v1 (``reset_url`` is a one-time secret)."""

    TYPE = "identity.password_reset.requested"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    reset_url: str = field(repr=False)  # one-time secret: never in a repr or traceback
    expires_at: datetime


# -- deputyships ("Profil – Vertretung") -----------------------------------------------------------
class DeputyshipV1(StrictSchema):
    """One step of a deputyship: A (the deputy) may act for B, a person or a company.

    ``represented_name`` is the person's name or the company number; ``deputy_has_account``
    is false for a company's new employee, who gets an invitation to set up access once the
    chamber approved ("Firmenmitarbeiter/in als Vertreter/in hinterlegen").
    """

    deputyship_id = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["person", "company"]))
    represented_account_id = fields.UUID(required=True, allow_none=True)
    company_number = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=20))
    represented_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    deputy_email = fields.Email(required=True)
    deputy_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    deputy_has_account = fields.Boolean(required=True)
    at = fields.AwareDateTime(required=True)


@dataclass(frozen=True)
class DeputyshipData(IntegrationEvent):
    """The payload fields every deputyship event shares (schema: ``DeputyshipV1``)."""

    deputyship_id: uuid.UUID
    kind: str
    represented_account_id: uuid.UUID | None
    company_number: str | None
    represented_name: str
    deputy_email: str
    deputy_name: str
    deputy_has_account: bool
    at: datetime


@dataclass(frozen=True)
class DeputyshipRequested(DeputyshipData):
    """Typed payload of ``identity.deputyship.requested`` v1: waits for the chamber's approval."""

    TYPE = "identity.deputyship.requested"
    VERSION = 1


@dataclass(frozen=True)
class DeputyshipApproved(DeputyshipData):
    """Typed payload of ``identity.deputyship.approved`` v1: the deputy may act from now on."""

    TYPE = "identity.deputyship.approved"
    VERSION = 1


@dataclass(frozen=True)
class DeputyshipRejected(DeputyshipData):
    """Typed payload of ``identity.deputyship.rejected`` v1."""

    TYPE = "identity.deputyship.rejected"
    VERSION = 1


@dataclass(frozen=True)
class DeputyshipRemoved(DeputyshipData):
    """Typed payload of ``identity.deputyship.removed`` v1: the deputy can no longer act."""

    TYPE = "identity.deputyship.removed"
    VERSION = 1

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


# -- self-registration, lockout and password changes (mailed by notifications) ----------------------
class RegistrationRequestedV1(StrictSchema):
    """Someone registered with an e-mail address that has no account; notifications mails the link.

    ``confirm_url`` carries a one-time token, valid until ``expires_at`` (24 hours by
    default) or until it is used; only its SHA-256 hash stays with identity.
    """

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    confirm_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    expires_at = fields.AwareDateTime(required=True)


class RegistrationForExistingAccountV1(StrictSchema):
    """Someone registered with the e-mail address of an existing account.

    The page answers as for a new address (no enumeration); the mail tells the owner
    that they already have an account, and how to get a new password.
    """

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password_forgotten_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})


class AccountLockedOutV1(StrictSchema):
    """Too many failed logins in a row: password logins are refused until ``locked_until``.

    The owner is told, with "Passwort vergessen" as the way out (a reset lifts the lock).
    """

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    locked_until = fields.AwareDateTime(required=True)
    password_forgotten_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})


class PasswordChangedV1(StrictSchema):
    """An account's password was set or changed; the owner gets a confirmation (no secret in it)."""

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    changed_at = fields.AwareDateTime(required=True)
    how = fields.String(required=True, validate=validate.OneOf(["reset", "activation", "registration"]))
    password_forgotten_url = fields.Url(required=True, require_tld=False, schemes={"http", "https"})


class AccountLinkUsedV1(StrictSchema):
    """A one-time link an account was mailed (reset or registration) is used up or void.

    notifications then removes the link from the mails it keeps: every link of that
    kind and account that expires no later than ``expires_at`` (the used link's expiry;
    a link issued after it expires later and is kept).
    """

    account_id = fields.UUID(required=True)
    link = fields.String(required=True, validate=validate.OneOf(["password_reset", "registration"]))
    expires_at = fields.AwareDateTime(required=True)


@dataclass(frozen=True)
class RegistrationRequested(IntegrationEvent):
    """Typed payload of ``identity.registration.requested`` v1 (``confirm_url`` is a one-time secret)."""

    TYPE = "identity.registration.requested"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    confirm_url: str = field(repr=False)  # one-time secret: never in a repr or traceback
    expires_at: datetime


@dataclass(frozen=True)
class RegistrationForExistingAccount(IntegrationEvent):
    """Typed payload of ``identity.registration.existing_account`` v1."""

    TYPE = "identity.registration.existing_account"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    password_forgotten_url: str


@dataclass(frozen=True)
class AccountLockedOut(IntegrationEvent):
    """Typed payload of ``identity.account.locked_out`` v1."""

    TYPE = "identity.account.locked_out"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    locked_until: datetime
    password_forgotten_url: str


@dataclass(frozen=True)
class PasswordChanged(IntegrationEvent):
    """Typed payload of ``identity.password.changed`` v1."""

    TYPE = "identity.password.changed"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    changed_at: datetime
    how: str
    password_forgotten_url: str


@dataclass(frozen=True)
class AccountLinkUsed(IntegrationEvent):
    """Typed payload of ``identity.account_link.used`` v1."""

    TYPE = "identity.account_link.used"
    VERSION = 1

    account_id: uuid.UUID
    link: str
    expires_at: datetime


# -- invitations and company access (the access data a company or the chamber hands out) ----------------

INVITED_STATES = ("invited", "active")


class AccountInvitedV1(StrictSchema):
    """A company's Administrator or Verwalter created an account for a person by e-mail.

    ``account_status`` ``invited``: the account awaits its password, and ``invite_url``
    carries the one-time link that sets it (valid until ``expires_at``; only its SHA-256
    stays with identity); notifications mails it. ``active``: the person already has an
    active account, which now holds the role; there is no link (both ``null``).
    ``apprentice_number`` or ``trainer_id`` name the register's person the account is for.
    """

    account_id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_status = fields.String(required=True, validate=validate.OneOf(INVITED_STATES))
    invite_url = fields.Url(required=True, allow_none=True, require_tld=False, schemes={"http", "https"})
    expires_at = fields.AwareDateTime(required=True, allow_none=True)
    company_number = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=20))
    company_role = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=20))
    apprentice_number = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=20))
    trainer_id = fields.UUID(required=True, allow_none=True)

    @validates_schema
    def _link_and_expiry_together(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("invite_url") is None) != (data.get("expires_at") is None):
            raise ValidationError("invite_url and expires_at are both set or both null.")
        if (data.get("invite_url") is None) != (data.get("account_status") == "active"):
            raise ValidationError("an invited account comes with a link, an active one without.")


@dataclass(frozen=True)
class AccountInvited(IntegrationEvent):
    """Typed payload of ``identity.account.invited`` v1 (``invite_url`` is a one-time secret)."""

    TYPE = "identity.account.invited"
    VERSION = 1

    account_id: uuid.UUID
    email: str
    name: str
    account_status: str
    invite_url: str | None = field(repr=False)  # one-time secret: never in a repr or traceback
    expires_at: datetime | None
    company_number: str | None
    company_role: str | None
    apprentice_number: str | None
    trainer_id: uuid.UUID | None


ACCESS_CODE_KINDS = ("company", "apprentice")
ACCESS_CODE_REASONS = ("registered", "requested")


class AccessCodeIssuedV1(StrictSchema):
    """A one-time Aktivierungscode for a company (by Identnummer) or an apprentice (by Azubinummer).

    documents issues the access letter (Anschreiben) the chamber prints and posts; the
    code is the one secret in the event (one-time, expiring, useful only with the number and
    a logged-in account), redacted from identity's outbox once sent. A newer code replaces
    the earlier one. ``reason``: ``registered`` (the company was entered in the register) or
    ``requested`` (Zugangsdaten erneut anfordern, fulfilled by the chamber).
    """

    kind = fields.String(required=True, validate=validate.OneOf(ACCESS_CODE_KINDS))
    number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    street = fields.String(required=True, allow_none=True)
    postal_code = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)
    activation_code = fields.String(required=True, validate=validate.Length(min=8, max=64))
    expires_at = fields.AwareDateTime(required=True)
    issued_at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(ACCESS_CODE_REASONS))


@dataclass(frozen=True)
class AccessCodeIssued(IntegrationEvent):
    """Typed payload of ``identity.access_code.issued`` v1 (``activation_code`` is a one-time secret)."""

    TYPE = "identity.access_code.issued"
    VERSION = 1

    kind: str
    number: str
    name: str
    street: str | None
    postal_code: str | None
    city: str | None
    activation_code: str = field(repr=False)  # one-time secret: never in a repr or traceback
    expires_at: datetime
    issued_at: datetime
    reason: str


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

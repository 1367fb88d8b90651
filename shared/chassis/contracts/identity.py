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

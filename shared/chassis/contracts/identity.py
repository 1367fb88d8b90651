"""Events produced by identity."""

from __future__ import annotations

from marshmallow import fields, validate

from chassis.contracts.common import StrictSchema


class ApprenticeAccountPreparedV1(StrictSchema):
    """An apprentice's account awaits activation.

    The activation code is the one secret allowed in an event: it is one-time,
    short-lived and only useful together with the Azubinummer. documents prints
    it into the apprentice's Eintragungsbestätigung; nothing else stores it.
    """

    account_id = fields.UUID(required=True)
    contract_id = fields.UUID(required=True)
    apprentice_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    activation_code = fields.String(required=True, validate=validate.Length(min=8, max=64))
    activation_expires_at = fields.AwareDateTime(required=True)
    email = fields.Email(required=True)


class AccountActivatedV1(StrictSchema):
    """A person activated their account and set a password."""

    account_id = fields.UUID(required=True)
    apprentice_number = fields.String(load_default=None, allow_none=True)
    email = fields.Email(required=True)
    activated_at = fields.AwareDateTime(required=True)

"""identity's API for a company's access data: Account erstellen for its apprentices and trainers.

Every route needs a valid access token, checked before the arguments are parsed, so an
anonymous caller learns nothing about the input rules. Who may do what is decided in
``domain.access``; its errors become problem+json in the chassis' app factory.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from chassis.app import current_runtime
from chassis.auth import authenticated_blueprint, current_principal
from chassis.problems import ProblemError
from identity.bootstrap import IdentityRuntime
from identity.domain.access_commands import (
    FulfilAccessDataRequest,
    InviteApprentice,
    InviteTrainer,
    ListAccessDataRequests,
    RedeemAccessCode,
)
from identity.domain.company_access import ApprenticeNumberTaken
from identity.domain.model import Account, ActivationCodeExpired, ActivationCodeUsed, InvalidActivation

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

blp = authenticated_blueprint(
    "company_access",
    __name__,
    url_prefix="/companies",
    description="Accounts a company creates for its apprentices and trainers (Account erstellen).",
)


class InvitationInputSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class InvitationSchema(Schema):
    account_id = fields.UUID(required=True)
    account_status = fields.String(
        required=True,
        metadata={
            "enum": ["invited", "active"],
            "description": "invited: a link to set the password went out",
        },
    )


def _answer(account: Account) -> dict[str, Any]:
    return {"account_id": account.id, "account_status": "active" if account.password_hash else "invited"}


@blp.route("/<string:company_number>/apprentices/<string:apprentice_number>/invitation")
class ApprenticeInvitation(MethodView):
    @blp.arguments(InvitationInputSchema)
    @blp.response(202, InvitationSchema)
    @blp.alt_response(403, description="Not the company's Administrator or Verwalter.")
    @blp.alt_response(404, description="Unknown company or apprentice, or not the caller's.")
    @blp.alt_response(409, description="The e-mail address belongs to another account.")
    @blp.doc(security=BEARER)
    def post(self, data: dict[str, Any], company_number: str, apprentice_number: str) -> Any:
        """Send the apprentice (by Azubinummer) a link to set the password of their account."""
        account = current_runtime(IdentityRuntime).bus.handle(
            InviteApprentice(current_principal(), company_number, apprentice_number, data["email"])
        )
        return _answer(account)


@blp.route("/<string:company_number>/trainers/<uuid:trainer_id>/invitation")
class TrainerInvitation(MethodView):
    @blp.arguments(InvitationInputSchema)
    @blp.response(202, InvitationSchema)
    @blp.alt_response(403, description="Not the company's Administrator or Verwalter.")
    @blp.alt_response(404, description="Unknown company or trainer, or not the caller's.")
    @blp.alt_response(409, description="The account of this e-mail address is locked.")
    @blp.doc(security=BEARER)
    def post(self, data: dict[str, Any], company_number: str, trainer_id: uuid.UUID) -> Any:
        """Create the trainer's account (role ``trainer`` for the company) and send a link to set its password."""
        account = current_runtime(IdentityRuntime).bus.handle(
            InviteTrainer(current_principal(), company_number, trainer_id, data["email"])
        )
        return _answer(account)


codes = authenticated_blueprint(
    "access_codes",
    __name__,
    url_prefix="/access-codes",
    description="Zugang freischalten: redeem the Aktivierungscode of an access letter.",
)


class RedeemInputSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["company", "apprentice"]))
    number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    code = fields.String(required=True, validate=validate.Length(min=1, max=64), load_only=True)


class RedeemedSchema(Schema):
    kind = fields.String(required=True)
    number = fields.String(required=True)


# One problem type per outcome, so that the portal can say what happened in German. An unknown
# number and a wrong code are one outcome on purpose: nobody learns which numbers exist.
CODE_PROBLEMS: dict[type[Exception], tuple[str, str]] = {
    InvalidActivation: ("access-code-invalid", "Unknown number or wrong code."),
    ActivationCodeExpired: ("access-code-expired", "The code has expired."),
    ActivationCodeUsed: ("access-code-used", "The code was used already."),
    ApprenticeNumberTaken: ("apprentice-number-taken", "The account belongs to another apprentice already."),
}


@codes.route("/redeem")
class Redeem(MethodView):
    @codes.arguments(RedeemInputSchema)
    @codes.response(200, RedeemedSchema)
    @codes.alt_response(404, description="The token names no active account.")
    @codes.alt_response(
        422, description="access-code-invalid (unknown number or wrong code), -expired, -used; or bad input."
    )
    @codes.doc(security=BEARER)
    def post(self, data: dict[str, Any]) -> Any:
        """Zugang freischalten: the caller becomes the company's Administrator (kind ``company``,
        Identnummer) or the apprentice of the Azubinummer (kind ``apprentice``). The caller's
        tokens carry the new role from their next refresh."""
        try:
            current_runtime(IdentityRuntime).bus.handle(
                RedeemAccessCode(current_principal(), data["kind"], data["number"].strip(), data["code"])
            )
        except (InvalidActivation, ActivationCodeExpired, ActivationCodeUsed, ApprenticeNumberTaken) as exc:
            problem_type, detail = CODE_PROBLEMS[type(exc)]
            raise ProblemError(
                422, "Unprocessable Content", detail, problem_type=problem_type, errors=[{"field": "code"}]
            ) from None
        return {"kind": data["kind"], "number": data["number"].strip()}


requests_blp = authenticated_blueprint(
    "access_data_requests",
    __name__,
    url_prefix="/access-data-requests",
    description="Zugangsdaten erneut anfordern: the requests chamber clerks fulfil with a new code and letter.",
)


class RequestQuerySchema(Schema):
    open = fields.Boolean(load_default=True, metadata={"description": "only requests still open"})


class AccessDataRequestSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": ["company", "apprentice"]})
    number = fields.String(required=True)
    contact_name = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    fulfilled_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"enum": ["issued", "nothing_to_issue"]})


@requests_blp.route("")
class AccessDataRequests(MethodView):
    @requests_blp.arguments(RequestQuerySchema, location="query", unknown=RAISE)
    @requests_blp.response(200, AccessDataRequestSchema(many=True))
    @requests_blp.alt_response(403, description="Chamber staff who do not issue access data.")
    @requests_blp.alt_response(404, description="Not chamber staff.")
    @requests_blp.doc(security=BEARER)
    def get(self, query: dict[str, Any]) -> Any:
        """The newest requests (100), by default the open ones."""
        return current_runtime(IdentityRuntime).bus.handle(
            ListAccessDataRequests(current_principal(), open_only=query["open"])
        )


@requests_blp.route("/<uuid:request_id>/fulfil")
class Fulfil(MethodView):
    @requests_blp.response(200, AccessDataRequestSchema)
    @requests_blp.alt_response(404, description="No such request, or not chamber staff.")
    @requests_blp.alt_response(409, description="Fulfilled already.")
    @requests_blp.doc(security=BEARER)
    def post(self, request_id: uuid.UUID) -> Any:
        """Issue a new code (it replaces the old one; documents issues the new letter) and close the request."""
        return current_runtime(IdentityRuntime).bus.handle(
            FulfilAccessDataRequest(current_principal(), request_id)
        )


BLUEPRINTS = [blp, codes, requests_blp]

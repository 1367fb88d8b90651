"""The access letters (Anschreiben) for chamber staff: the letters to print, their PDF, "gedruckt".

Everyone else gets 404: whether letters exist is private.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields

from chassis.app import current_runtime
from chassis.auth import authenticate, current_principal
from documents.bootstrap import DocumentsRuntime
from documents.domain.access_letters import AccessLetter
from documents.domain.letter_commands import ListAccessLetters, MarkLetterPrinted, OpenAccessLetter

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

letters = Blueprint(
    "access_letters",
    __name__,
    url_prefix="/access-letters",
    description="Access letters (Anschreiben) with Aktivierungscodes, for chamber staff to print.",
)


@letters.before_request
def _authenticate() -> None:
    authenticate()


def _bus_handle(message: Any) -> Any:
    return current_runtime(DocumentsRuntime).bus.handle(message)


class LetterQuerySchema(Schema):
    to_print = fields.Boolean(load_default=True, metadata={"description": "only letters still to print"})


class LetterSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, metadata={"enum": ["company", "apprentice"]})
    number = fields.String(required=True, metadata={"description": "Identnummer or Azubinummer"})
    name = fields.String(required=True)
    title = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": ["registered", "requested"]})
    issued_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    printed_at = fields.AwareDateTime(allow_none=True)
    superseded_at = fields.AwareDateTime(allow_none=True)


@letters.route("")
class Letters(MethodView):
    @letters.arguments(LetterQuerySchema, location="query", unknown=RAISE)
    @letters.response(200, LetterSchema(many=True))
    @letters.alt_response(404, description="Not chamber staff.")
    @letters.doc(security=BEARER)
    def get(self, query: dict[str, Any]) -> list[AccessLetter]:
        """The newest letters (100), by default only those still to print."""
        found: list[AccessLetter] = _bus_handle(ListAccessLetters(current_principal(), query["to_print"]))
        return found


@letters.route("/<uuid:letter_id>/content")
@letters.doc(security=BEARER)
@letters.response(200, content_type="application/pdf", description="The letter (PDF/UA-1).")
@letters.alt_response(404, description="No such letter, or not chamber staff.")
def letter_content(letter_id: uuid.UUID) -> Response:
    letter: AccessLetter = _bus_handle(OpenAccessLetter(current_principal(), letter_id))
    assert letter.content is not None and letter.sha256 is not None
    response = Response(bytes(letter.content), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{letter.filename}"'
    response.headers["Cache-Control"] = "no-store, private"
    response.set_etag(letter.sha256)
    return response


@letters.route("/<uuid:letter_id>/printed")
class Printed(MethodView):
    @letters.response(200, LetterSchema)
    @letters.alt_response(404, description="No such letter, or not chamber staff.")
    @letters.doc(security=BEARER)
    def post(self, letter_id: uuid.UUID) -> AccessLetter:
        """Mark the letter as printed (idempotent: the first time counts)."""
        letter: AccessLetter = _bus_handle(MarkLetterPrinted(current_principal(), letter_id))
        return letter


BLUEPRINTS = [letters]

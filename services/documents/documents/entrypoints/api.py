"""The documents REST API: "Dokumente" for every user and the read receipts of a contract.

Access is decided here from the token's claims and this service's own records.
Documents and contracts that are not the caller's answer 404: whether they
exist is private.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint

from chassis.auth import Principal, current_principal, invalid_token, not_found
from chassis.service import ServiceRuntime
from documents.domain.model import ContractNotFound, DocumentFilter, DocumentNotFound, Viewer
from documents.entrypoints.schemas import (
    ContentQuerySchema,
    DocumentDetailSchema,
    DocumentQuerySchema,
    DocumentSchema,
)
from documents.service_layer import services

BEARER = [{"bearerAuth": []}]
RUNTIME_KEY = "documents.runtime"


def _runtime() -> ServiceRuntime:
    return current_app.extensions[RUNTIME_KEY]


def _clock() -> Callable[[], datetime]:
    return _runtime().extras["clock"]


def viewer_from(principal: Principal) -> Viewer:
    # Read receipts name the account that opened a document; identity's subjects are account ids.
    try:
        uuid.UUID(principal.subject)
    except ValueError:
        raise invalid_token("the token's subject is not an account id") from None
    return Viewer(
        subject=principal.subject,
        is_chamber=principal.is_chamber,
        company_roles=dict(principal.company_roles),
        apprentice_number=principal.apprentice_number or None,
    )


def make_blueprints() -> list[Blueprint]:
    """Fresh blueprints per app, so that several apps (tests, embedded mode) never share state."""
    documents = Blueprint(
        "documents",
        __name__,
        url_prefix="/documents",
        description='The caller\'s documents ("Dokumente"): list, metadata and the PDF itself.',
    )
    contracts = Blueprint(
        "contracts",
        __name__,
        url_prefix="/contracts",
        description="Documents of a training contract with their read receipts (Ausbildungsverhältnisse).",
    )

    @documents.route("")
    @documents.doc(security=BEARER)
    @documents.arguments(DocumentQuerySchema, location="query", as_kwargs=True)
    @documents.response(200, DocumentSchema(many=True))
    @documents.alt_response(401, description="No valid access token.")
    def list_documents(**query: Any) -> Any:
        """List the caller's documents.

        Apprentices see their own, company Administrators and Verwalter their
        companies' documents, chamber staff all (narrowed by the filters).
        """
        viewer = viewer_from(current_principal())
        filters = DocumentFilter(
            unread=query.get("unread"),
            contract_id=query.get("contract_id"),
            company_number=query.get("company_number"),
            apprentice_number=query.get("apprentice_number"),
            recipient_kind=query.get("recipient_kind"),
            limit=query["limit"],
        )
        with _runtime().uow_factory() as uow:
            return services.list_documents(uow, viewer, filters)

    @documents.route("/<uuid:document_id>")
    @documents.doc(security=BEARER)
    @documents.response(200, DocumentDetailSchema)
    @documents.alt_response(401, description="No valid access token.")
    @documents.alt_response(404, description="No such document, or not the caller's.")
    def get_document(document_id: uuid.UUID) -> Any:
        """One document's metadata (opening it is not recorded)."""
        viewer = viewer_from(current_principal())
        with _runtime().uow_factory() as uow:
            try:
                return services.get_document(uow, viewer, document_id)
            except DocumentNotFound:
                raise not_found("No such document.") from None

    @documents.route("/<uuid:document_id>/content")
    @documents.doc(security=BEARER)
    @documents.arguments(ContentQuerySchema, location="query", as_kwargs=True)
    @documents.response(200, content_type="application/pdf", description="The PDF (PDF/UA-1).")
    @documents.alt_response(401, description="No valid access token.")
    @documents.alt_response(404, description="No such document, or not the caller's.")
    def document_content(document_id: uuid.UUID, disposition: str) -> Response:
        """The PDF. The recipient side's first opening is recorded as the read receipt."""
        viewer = viewer_from(current_principal())
        with _runtime().uow_factory() as uow:
            try:
                document = services.open_document(uow, viewer, document_id, _clock())
            except DocumentNotFound:
                raise not_found("No such document.") from None
            content = bytes(document.content)
            filename = document.filename
        response = Response(content, mimetype="application/pdf")
        # The filename is ASCII-only by construction (domain.safe_filename).
        response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
        response.headers["Cache-Control"] = "no-store, private"
        return response

    @contracts.route("/<uuid:contract_id>/documents")
    @contracts.doc(security=BEARER)
    @contracts.response(200, DocumentSchema(many=True))
    @contracts.alt_response(401, description="No valid access token.")
    @contracts.alt_response(404, description="No such contract, or not one of the caller's companies.")
    def contract_documents(contract_id: uuid.UUID) -> Any:
        """A contract's documents with read receipts: for its company's Administrators and Verwalter and the chamber."""
        viewer = viewer_from(current_principal())
        with _runtime().uow_factory() as uow:
            try:
                return services.contract_documents(uow, viewer, contract_id)
            except ContractNotFound:
                raise not_found("No such contract.") from None

    return [documents, contracts]

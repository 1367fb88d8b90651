"""The documents REST API: "Dokumente" for every user and the documents of a contract with read receipts.

Views turn requests into queries and commands for the message bus. Who sees what is
decided in ``documents.domain.access``; documents and contracts that are not the
caller's answer 404 (``chassis.domain.NotFound``): whether they exist is private.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from chassis.app import current_runtime
from chassis.auth import current_principal, invalid_token
from chassis.pagination import PageRequest
from chassis.paging import PageQuerySchema, page_response, page_schema
from chassis.principal import Principal
from chassis.problems import ServiceUnavailable
from documents.bootstrap import DocumentsRuntime
from documents.domain.commands import OpenDocument
from documents.domain.model import Document, DocumentFilter, UnreadableSeal
from documents.domain.queries import GetDocument, ListContractDocuments, ListDocuments
from documents.entrypoints.schemas import (
    ContentQuerySchema,
    DocumentDetailSchema,
    DocumentQuerySchema,
    DocumentSchema,
)

log = logging.getLogger(__name__)

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]

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


def _principal() -> Principal:
    principal = current_principal()
    # Read receipts name the account that opened a document; identity's subjects are account ids.
    try:
        uuid.UUID(principal.subject)
    except ValueError:
        raise invalid_token("the token's subject is not an account id") from None
    return principal


def _bus_handle(message: Any) -> Any:
    return current_runtime(DocumentsRuntime).bus.handle(message)


@documents.route("")
@documents.doc(security=BEARER)
@documents.arguments(DocumentQuerySchema, location="query", as_kwargs=True)
@documents.response(200, page_schema(DocumentSchema))
@documents.alt_response(401, description="No valid access token.")
def list_documents(page: PageRequest, filters: DocumentFilter) -> Any:
    """List the caller's documents, newest first (keyset-paged).

    Apprentices see their own, company Administrators and Verwalter their
    companies' documents, chamber staff all (narrowed by the filters).
    """
    return page_response(_bus_handle(ListDocuments(_principal(), page, filters)))


@documents.route("/<uuid:document_id>")
@documents.doc(security=BEARER)
@documents.response(200, DocumentDetailSchema)
@documents.alt_response(401, description="No valid access token.")
@documents.alt_response(404, description="No such document, or not the caller's.")
def get_document(document_id: uuid.UUID) -> Document:
    """One document's metadata (opening it is not recorded)."""
    document: Document = _bus_handle(GetDocument(_principal(), document_id))
    return document


@documents.route("/<uuid:document_id>/content")
@documents.doc(security=BEARER)
@documents.arguments(ContentQuerySchema, location="query", as_kwargs=True)
@documents.response(
    200,
    content_type="application/pdf",
    description="The PDF (PDF/UA-1), the same bytes at every opening; its ETag is their SHA-256.",
)
@documents.alt_response(401, description="No valid access token.")
@documents.alt_response(404, description="No such document, or not the caller's.")
@documents.alt_response(503, description="The document cannot be rendered right now (retry later).")
def document_content(document_id: uuid.UUID, disposition: str) -> Response:
    """The PDF. The recipient side's first opening is recorded as the read receipt.

    A document is rendered on its first opening (by anyone allowed to open it); every
    opening answers the bytes stored then.
    """
    try:
        document: Document = _bus_handle(OpenDocument(_principal(), document_id))
    except UnreadableSeal:
        # DOCUMENTS_SECRET_KEY is not the one the document was sealed with: an operator must restore it.
        log.error(
            "document %s cannot be rendered: its sealed content does not open with the secret", document_id
        )
        raise ServiceUnavailable(
            "The document cannot be rendered right now. Please retry later.", 60
        ) from None
    assert document.content is not None and document.sha256 is not None
    response = Response(bytes(document.content), mimetype="application/pdf")
    # The filename is ASCII-only by construction (domain.safe_filename).
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response.headers["Cache-Control"] = "no-store, private"
    response.set_etag(document.sha256)
    return response


@contracts.route("/<uuid:contract_id>/documents")
@contracts.doc(security=BEARER)
@contracts.arguments(PageQuerySchema, location="query")
@contracts.response(200, page_schema(DocumentSchema))
@contracts.alt_response(401, description="No valid access token.")
@contracts.alt_response(404, description="No such contract, or not one of the caller's companies.")
def contract_documents(page: PageRequest, contract_id: uuid.UUID) -> Any:
    """A contract's documents with read receipts, oldest first: for its company's Administrators and Verwalter and the chamber."""
    return page_response(_bus_handle(ListContractDocuments(_principal(), contract_id, page)))


BLUEPRINTS = [documents, contracts]

"""Use cases of the documents service.

Issuing runs inside the consumer's unit of work (the consumer commits, together
with the inbox row); the API's use cases commit themselves. Events leave only
through ``uow.emit``, so they commit with the state they describe.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from documents.domain.model import (
    APPRENTICE,
    COMPANY,
    REGISTRATION_CONFIRMATION,
    AccessData,
    Confirmation,
    ConfirmationPolicy,
    ContractNotFound,
    ContractRecord,
    Document,
    DocumentFilter,
    DocumentNotFound,
    Opening,
    PendingAccess,
    RecipientKind,
    Scope,
    Viewer,
    first_opening,
)
from documents.service_layer.ports import ConfirmationRenderer, CredentialVault, UnitOfWork

log = logging.getLogger(__name__)

DOCUMENT_ISSUED = "documents.document.issued"
DOCUMENT_OPENED = "documents.document.opened"
PDF = "application/pdf"
# How long access data without a code waits for its contract before it is purged.
PENDING_WITHOUT_CODE = timedelta(days=30)


@dataclass(frozen=True)
class Issuing:
    """What issuing needs besides the unit of work."""

    policy: ConfirmationPolicy
    renderer: ConfirmationRenderer
    vault: CredentialVault
    activation_url: str
    clock: Callable[[], datetime]


# -- issuing (event handlers) -------------------------------------------------------------


def register_contract(uow: UnitOfWork, contract: ContractRecord, issuing: Issuing) -> list[Document]:
    """A contract was registered: keep it, and issue what its data now allows."""
    uow.lock_contract(contract.contract_id)
    known = uow.contracts.get(contract.contract_id)
    if known is None:
        uow.contracts.add(contract)
        known = contract
    pending = uow.pending_access.get(known.contract_id)
    if not issuing.policy.issues_for(known):
        log.info("contract %s registered before the cutoff: no digital confirmation", known.contract_id)
        if pending is not None:
            uow.pending_access.remove(known.contract_id)  # the code must not linger unused
        return []
    issued = _issue(uow, known, COMPANY, issuing)
    if pending is not None:
        sealed = pending.sealed_code
        access = AccessData(
            contract_id=pending.contract_id,
            apprentice_number=pending.apprentice_number,
            activation_code=issuing.vault.open(sealed) if sealed is not None else None,
            expires_at=pending.expires_at if sealed is not None else None,
        )
        known.apprentice_number = access.apprentice_number
        issued += _issue(uow, known, APPRENTICE, issuing, access)
        uow.pending_access.remove(known.contract_id)
    return issued


def receive_access_data(uow: UnitOfWork, access: AccessData, issuing: Issuing) -> list[Document]:
    """The apprentice's account was prepared: issue their confirmation, or keep the data sealed until the contract is known."""
    uow.lock_contract(access.contract_id)
    uow.pending_access.purge_expired(issuing.clock())
    contract = uow.contracts.get(access.contract_id)
    if contract is None:
        received_at = issuing.clock()
        uow.pending_access.put(
            PendingAccess(
                contract_id=access.contract_id,
                apprentice_number=access.apprentice_number,
                sealed_code=issuing.vault.seal(access.activation_code) if access.activation_code else None,
                # Without a code nothing secret waits; keep the row as long as a code would.
                expires_at=access.expires_at or received_at + PENDING_WITHOUT_CODE,
                received_at=received_at,
            )
        )
        log.info("access data for contract %s waits for the contract", access.contract_id)
        return []
    contract.apprentice_number = access.apprentice_number
    if not issuing.policy.issues_for(contract):
        log.info("contract %s registered before the cutoff: no digital confirmation", contract.contract_id)
        return []
    return _issue(uow, contract, APPRENTICE, issuing, access)


def _issue(
    uow: UnitOfWork,
    contract: ContractRecord,
    recipient_kind: RecipientKind,
    issuing: Issuing,
    access: AccessData | None = None,
) -> list[Document]:
    if uow.documents.find(contract.contract_id, REGISTRATION_CONFIRMATION, recipient_kind) is not None:
        log.info("%s confirmation for contract %s exists already", recipient_kind, contract.contract_id)
        return []
    confirmation = Confirmation(
        contract=contract,
        recipient_kind=recipient_kind,
        issued_at=issuing.clock(),
        access=access,
        activation_url=issuing.activation_url if access is not None and access.has_code else None,
    )
    pdf = issuing.renderer.registration_confirmation(confirmation)
    is_company = recipient_kind == COMPANY
    document = Document(
        id=uuid.uuid4(),
        kind=REGISTRATION_CONFIRMATION,
        title=confirmation.title,
        contract_id=contract.contract_id,
        recipient_kind=recipient_kind,
        company_number=contract.company_number,
        apprentice_number=None if is_company else contract.apprentice_number,
        recipient_name=contract.company_name if is_company else contract.apprentice_name,
        recipient_email=contract.company_email if is_company else contract.apprentice_email,
        filename=confirmation.filename,
        media_type=PDF,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_at=confirmation.issued_at,
        content=pdf,
    )
    uow.documents.add(document)
    uow.emit(DOCUMENT_ISSUED, str(document.id), issued_payload(document))
    log.info("issued %s %s for contract %s", recipient_kind, document.kind, contract.contract_id)
    return [document]


def issued_payload(document: Document) -> dict[str, Any]:
    return {
        "document_id": str(document.id),
        "kind": document.kind,
        "title": document.title,
        "contract_id": str(document.contract_id) if document.contract_id else None,
        "recipient": {
            "kind": document.recipient_kind,
            "company_number": document.company_number,
            "apprentice_number": document.apprentice_number,
            "name": document.recipient_name,
            "email": document.recipient_email,
        },
        "issued_at": document.issued_at.isoformat(),
    }


# -- reading (API) -------------------------------------------------------------------------


def list_documents(uow: UnitOfWork, viewer: Viewer, filters: DocumentFilter) -> list[Document]:
    return uow.documents.list(Scope.of(viewer), filters)


def get_document(uow: UnitOfWork, viewer: Viewer, document_id: uuid.UUID) -> Document:
    document = uow.documents.get(document_id)
    if document is None or not viewer.may_read(document):
        raise DocumentNotFound(str(document_id))
    return document


def open_document(
    uow: UnitOfWork, viewer: Viewer, document_id: uuid.UUID, clock: Callable[[], datetime]
) -> Document:
    """The document with its content; the recipient side's first opening is the read receipt."""
    document = uow.documents.get(document_id, with_content=True)
    if document is None or not viewer.may_read(document):
        raise DocumentNotFound(str(document_id))
    opening = first_opening(document, viewer, clock())
    if opening is not None and uow.documents.record_first_opening(opening):
        uow.emit(DOCUMENT_OPENED, str(document.id), opened_payload(document, opening))
        uow.commit()
    return document


def opened_payload(document: Document, opening: Opening) -> dict[str, Any]:
    return {
        "document_id": str(document.id),
        "kind": document.kind,
        "contract_id": str(document.contract_id) if document.contract_id else None,
        "recipient_kind": document.recipient_kind,
        "opened_at": opening.opened_at.isoformat(),
        "opened_by": opening.opened_by,
    }


def contract_documents(uow: UnitOfWork, viewer: Viewer, contract_id: uuid.UUID) -> list[Document]:
    """A contract's documents with their read receipts, for the company's and the chamber's view."""
    contract = uow.contracts.get(contract_id)
    if contract is None or not viewer.may_see_contract(contract):
        raise ContractNotFound(str(contract_id))
    return uow.documents.for_contract(contract_id)

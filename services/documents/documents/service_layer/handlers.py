"""documents' use cases: issuing (event handlers), reading and opening (queries and commands).

Every handler is ``handle(message, uow, *, deps)`` and owns its unit of work.

Issuing renders nothing: in one short unit of work it takes the contract's turn
(``uow.take_turn``), reads what is known, stores what the event brings and *seals* the
confirmations now due: their content (``DocumentContent``: template, template version,
fields), encrypted with the service's secret, with its SHA-256 digest. Documents are stored
with an atomic insert-if-absent, so a concurrent or repeated delivery never makes a second
one; ``DocumentIssued`` leaves with the same commit, and so does the inbox row.

The PDF is rendered on a document's first opening (or by ``bp-documents render-pending``):
read the document, render it from its sealed content with no transaction open and nothing
locked (WeasyPrint: a tenth of a second or more), then store it with a compare-and-set.
Whoever stored first wins; every opening answers the stored bytes, byte for byte the same.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chassis.contracts.documents import DocumentIssued, DocumentOpened, Recipient
from chassis.contracts.identity import ApprenticeAccountPrepared
from chassis.contracts.training import ContractRegistered
from chassis.domain import NotFound
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page
from chassis.principal import Principal
from documents.domain import access
from documents.domain.access_letters import AccessLetter
from documents.domain.commands import OpenDocument, RenderDocument
from documents.domain.model import (
    REGISTRATION_CONFIRMATION,
    AccessData,
    BrokenSeal,
    Confirmation,
    ConfirmationPolicy,
    ContractFacts,
    ContractRecord,
    Document,
    DocumentContent,
    Opening,
    PendingAccess,
    Rendering,
)
from documents.domain.queries import GetDocument, ListContractDocuments, ListDocuments, ListUnrendered
from documents.service_layer.ports import DocumentRenderer, Vault
from documents.service_layer.unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)

# How long access data without a code waits for its contract before it is purged.
PENDING_WITHOUT_CODE = timedelta(days=30)


@dataclass(frozen=True)
class Issuing:
    """What issuing needs besides the unit of work (a typed field of DocumentsRuntime)."""

    policy: ConfirmationPolicy
    vault: Vault  # access data waiting for its contract
    seals: Vault  # documents' sealed content
    activation_url: str
    clock: Callable[[], datetime]


@dataclass(frozen=True)
class Reading:
    """What opening and rendering documents need besides the unit of work."""

    renderer: DocumentRenderer
    seals: Vault  # the same key as Issuing.seals
    clock: Callable[[], datetime]


# -- issuing (event handlers) ---------------------------------------------------------------


def contract_registered(
    event: IncomingEvent[ContractRegistered], uow: DocumentsUnitOfWork, *, issuing: Issuing
) -> None:
    """A contract was registered: keep it, and issue what its data now allows."""
    incoming = contract_record(event.payload)

    def due(facts: ContractFacts, at: datetime) -> list[Confirmation]:
        pending = facts.pending
        known_access = None
        if pending is not None:
            sealed = pending.sealed_code
            known_access = pending.opened_with(issuing.vault.open(sealed) if sealed is not None else None)
        return issuing.policy.due(
            facts.contract or incoming,
            known_access,
            facts.issued,
            at=at,
            activation_url=issuing.activation_url,
        )

    def store(uow: DocumentsUnitOfWork, facts: ContractFacts) -> None:
        contract = facts.contract
        if contract is None:
            uow.contracts.add(incoming)
            contract = incoming
        if facts.pending is not None:
            # Issued with this commit, redundant, or before the cutoff: the code must not linger.
            contract.apprentice_number = facts.pending.apprentice_number
            uow.pending_access.remove(contract.contract_id)
        if not issuing.policy.issues_for(contract):
            log.info(
                "contract %s registered before the cutoff: no digital confirmation", contract.contract_id
            )

    _issue(uow, incoming.contract_id, issuing, due, store)


def apprentice_account_prepared(
    event: IncomingEvent[ApprenticeAccountPrepared], uow: DocumentsUnitOfWork, *, issuing: Issuing
) -> None:
    """The apprentice's account was prepared: issue their confirmation, or keep the data sealed until the contract is known."""
    data = event.payload
    access_data = AccessData(
        contract_id=data.contract_id,
        apprentice_number=data.apprentice_number,
        activation_code=data.activation_code,
        expires_at=data.activation_expires_at,
    )
    # Sealed here, outside any transaction; stored only if the contract is not known yet.
    sealed = issuing.vault.seal(data.activation_code) if data.activation_code else None

    def due(facts: ContractFacts, at: datetime) -> list[Confirmation]:
        return issuing.policy.due(
            facts.contract, access_data, facts.issued, at=at, activation_url=issuing.activation_url
        )

    def store(uow: DocumentsUnitOfWork, facts: ContractFacts) -> None:
        now = issuing.clock()
        uow.pending_access.purge_expired(now)
        if facts.contract is None:
            uow.pending_access.put(
                PendingAccess(
                    contract_id=data.contract_id,
                    apprentice_number=data.apprentice_number,
                    sealed_code=sealed,
                    # Without a code nothing secret waits; keep the row as long as a code would.
                    expires_at=data.activation_expires_at or now + PENDING_WITHOUT_CODE,
                    received_at=now,
                )
            )
            log.info("access data for contract %s waits for the contract", data.contract_id)
            return
        facts.contract.apprentice_number = data.apprentice_number
        if facts.pending is not None:
            uow.pending_access.remove(data.contract_id)
        if not issuing.policy.issues_for(facts.contract):
            log.info("contract %s registered before the cutoff: no digital confirmation", data.contract_id)

    _issue(uow, data.contract_id, issuing, due, store)


Due = Callable[[ContractFacts, datetime], list[Confirmation]]
Store = Callable[[DocumentsUnitOfWork, ContractFacts], None]


def _issue(
    uow: DocumentsUnitOfWork, contract_id: uuid.UUID, issuing: Issuing, due: Due, store: Store
) -> None:
    """In the contract's turn: store what the event brings and seal the confirmations now due."""
    at = issuing.clock()
    with uow:
        uow.take_turn(contract_id, at)
        facts = _facts(uow, contract_id)
        documents = [sealed_document(confirmation, issuing.seals) for confirmation in due(facts, at)]
        store(uow, facts)
        for document in documents:
            if uow.documents.add_if_absent(document):
                uow.emit(issued_event(document), subject=str(document.id))
                log.info("issued %s %s for contract %s", document.recipient_kind, document.kind, contract_id)
        uow.commit()


def sealed_document(confirmation: Confirmation, seals: Vault) -> Document:
    """The confirmation's document, its content sealed (encrypted, with its digest): rendered later."""
    content = confirmation.document_content()
    return Document.issue(confirmation, content, seals.seal(content.canonical()))


def _facts(uow: DocumentsUnitOfWork, contract_id: uuid.UUID) -> ContractFacts:
    return ContractFacts(
        contract=uow.contracts.get(contract_id),
        pending=uow.pending_access.get(contract_id),
        issued=uow.documents.issued_for(contract_id, REGISTRATION_CONFIRMATION),
    )


def contract_record(data: ContractRegistered) -> ContractRecord:
    return ContractRecord(
        contract_id=data.contract_id,
        contract_number=data.contract_number,
        registered_on=data.registered_on,
        start_date=data.start_date,
        end_date=data.end_date,
        occupation_code=data.occupation.code,
        occupation_title=data.occupation.title,
        company_number=data.company.company_number,
        company_name=data.company.name,
        company_email=data.company.email,
        apprentice_first_name=data.apprentice.first_name,
        apprentice_last_name=data.apprentice.last_name,
        apprentice_birth_date=data.apprentice.birth_date,
        apprentice_email=data.apprentice.email,
    )


def issued_event(document: Document) -> DocumentIssued:
    return DocumentIssued(
        document_id=document.id,
        kind=document.kind,
        title=document.title,
        contract_id=document.contract_id,
        recipient=Recipient(
            kind=document.recipient_kind,
            company_number=document.company_number,
            apprentice_number=document.apprentice_number,
            name=document.recipient_name,
            email=document.recipient_email,
        ),
        issued_at=document.issued_at,
    )


# -- reading (API) ---------------------------------------------------------------------------


def list_documents(query: ListDocuments, uow: DocumentsUnitOfWork) -> Page[Document]:
    scope = access.scope_of(query.principal)
    with uow:
        return uow.documents.page_for(scope, query.filters, query.page)


def get_document(query: GetDocument, uow: DocumentsUnitOfWork) -> Document:
    with uow:
        return access.readable(query.principal, uow.documents.get(query.document_id))


def open_document(cmd: OpenDocument, uow: DocumentsUnitOfWork, *, reading: Reading) -> Document:
    """The document with its PDF; the recipient side's first opening is the read receipt.

    A document not rendered yet is rendered now, with no transaction open, and stored
    unless a concurrent opening stored its rendering first: this opening then answers
    that one, so every opening of a document answers the same bytes.
    """
    at = reading.clock()
    with uow:
        document = access.readable(cmd.principal, uow.documents.get(cmd.document_id, with_content=True))
        if document.rendered:
            if _record_opening(uow, document, cmd.principal, at):
                uow.commit()
            return document
    rendering = render(document, reading)
    with uow:
        uow.documents.store_rendering(rendering)
        stored = uow.documents.get(cmd.document_id, with_content=True)
        assert stored is not None and stored.rendered, "a stored document keeps its PDF"
        _record_opening(uow, stored, cmd.principal, at)
        uow.commit()
        return stored


def _record_opening(uow: DocumentsUnitOfWork, document: Document, principal: Principal, at: datetime) -> bool:
    """Record the read receipt (and emit DocumentOpened) if this opening is the recipient's first."""
    opening = access.first_opening(document, principal, at)
    if opening is None or not uow.documents.record_first_opening(opening):
        return False
    uow.emit(opened_event(document, opening), subject=str(document.id))
    return True


def render(document: Document | AccessLetter, reading: Reading) -> Rendering:
    """The document's (or access letter's) PDF, rendered from its sealed content (slow: call it with no transaction open).

    Raises ``UnreadableSeal`` when the service's secret is not the one the content was
    sealed with, ``BrokenSeal`` when the opened content is not what was sealed.
    """
    if document.sealed_data is None or document.sealed_sha256 is None:
        raise BrokenSeal(f"document {document.id} has neither a PDF nor sealed content")
    content = DocumentContent.from_canonical(
        reading.seals.open(document.sealed_data), sha256=document.sealed_sha256
    )
    if (content.template, content.template_version) != (document.template, document.template_version):
        raise BrokenSeal(f"the sealed content of document {document.id} names another template")
    started = time.perf_counter()
    pdf = reading.renderer.render(content)
    log.info(
        "rendered document %s (%s v%s) in %.3f s",
        document.id,
        content.template,
        content.template_version,
        time.perf_counter() - started,
    )
    return Rendering(document.id, pdf, reading.clock())


def render_document(cmd: RenderDocument, uow: DocumentsUnitOfWork, *, reading: Reading) -> bool:
    """Render and store a document ahead of its first opening; True if this call stored its PDF.

    No read receipt: nobody opened it.
    """
    with uow:
        document = uow.documents.get(cmd.document_id, with_content=True)
        if document is None:
            raise NotFound("No such document.")
        if document.rendered:
            return False
    rendering = render(document, reading)
    with uow:
        stored = uow.documents.store_rendering(rendering)
        uow.commit()
    return stored


def list_unrendered(query: ListUnrendered, uow: DocumentsUnitOfWork) -> list[uuid.UUID]:
    with uow:
        return uow.documents.unrendered(after=query.after, limit=query.limit)


def opened_event(document: Document, opening: Opening) -> DocumentOpened:
    return DocumentOpened(
        document_id=document.id,
        kind=document.kind,
        contract_id=document.contract_id,
        recipient_kind=document.recipient_kind,
        opened_at=opening.opened_at,
        opened_by=uuid.UUID(opening.opened_by),
    )


def list_contract_documents(query: ListContractDocuments, uow: DocumentsUnitOfWork) -> Page[Document]:
    """A contract's documents with their read receipts, for its company's and the chamber's view."""
    with uow:
        access.contract_visible(query.principal, uow.contracts.get(query.contract_id))
        return uow.documents.page_for_contract(query.contract_id, query.page)


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    ListDocuments: list_documents,
    GetDocument: get_document,
    OpenDocument: open_document,
    ListContractDocuments: list_contract_documents,
    RenderDocument: render_document,
    ListUnrendered: list_unrendered,
}
# Issuing renders PDFs between its two units of work (about a second each): in a batch the batch's
# transaction, and the contract turns its earlier events took, would stay open meanwhile.
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    # Batched (one transaction per consumer batch): issuing renders nothing. The service's one
    # consumer takes both queues in one thread, so its batches never wait for each other's turns.
    ContractRegistered.TYPE: contract_registered,
    ApprenticeAccountPrepared.TYPE: apprentice_account_prepared,
}

"""documents' use cases: issuing (event handlers), reading and opening (queries and a command).

Every handler is ``handle(message, uow, *, deps)`` and owns its unit of work. Issuing
renders its PDFs with no transaction open (WeasyPrint takes about a second per PDF), so
its event handlers are registered ``own_transaction``: never in a consumer batch, whose
transaction would stay open while they render:

1. read what is known of the contract in one short unit of work (nothing written,
   nothing locked);
2. render the confirmations that are due, outside any transaction;
3. in a second unit of work, take the contract's turn (``uow.take_turn``), read again,
   store what the event brings and the documents, emit ``DocumentIssued`` and commit;
   the inbox row joins that commit. If the data changed while rendering (the other
   event of the contract was handled meanwhile), nothing is stored: render what is
   now due and try again. Documents are stored with an atomic insert-if-absent, so a
   concurrent or repeated delivery never makes a second one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chassis.contracts.documents import DocumentIssued, DocumentOpened, Recipient
from chassis.contracts.identity import ApprenticeAccountPrepared
from chassis.contracts.training import ContractRegistered
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import own_transaction
from chassis.pagination import Page
from documents.domain import access
from documents.domain.commands import OpenDocument
from documents.domain.model import (
    REGISTRATION_CONFIRMATION,
    AccessData,
    Confirmation,
    ConfirmationPolicy,
    ContractFacts,
    ContractRecord,
    Document,
    Opening,
    PendingAccess,
)
from documents.domain.queries import GetDocument, ListContractDocuments, ListDocuments
from documents.service_layer.ports import ConfirmationRenderer, CredentialVault
from documents.service_layer.unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)

# How long access data without a code waits for its contract before it is purged.
PENDING_WITHOUT_CODE = timedelta(days=30)
# Rounds of "render, then store" before giving up on a contract whose data keeps changing.
MAX_RENDER_ROUNDS = 3


@dataclass(frozen=True)
class Issuing:
    """What issuing needs besides the unit of work (a typed field of DocumentsRuntime)."""

    policy: ConfirmationPolicy
    renderer: ConfirmationRenderer
    vault: CredentialVault
    activation_url: str
    clock: Callable[[], datetime]


class DataChangedWhileRendering(RuntimeError):
    """The contract's data changed in every round; the consumer retries the event later."""


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
    """Read, render with no transaction open, then store what the event brings and the documents."""
    at = issuing.clock()
    with uow:
        facts = _facts(uow, contract_id)
    rendered: list[tuple[Confirmation, bytes]] = []
    for _ in range(MAX_RENDER_ROUNDS):
        for confirmation in due(facts, at):
            if _pdf_of(rendered, confirmation) is None:
                rendered.append((confirmation, issuing.renderer.registration_confirmation(confirmation)))
        with uow:
            uow.take_turn(contract_id, at)
            facts = _facts(uow, contract_id)
            confirmations = due(facts, at)
            pdfs = _pdfs_for(confirmations, rendered)
            if pdfs is None:
                # The contract's other event was handled while we rendered: leave (rolling
                # back, which ends the turn) and render what is due now.
                log.info("data of contract %s changed while rendering; rendering again", contract_id)
                continue
            documents = [Document.issue(c, pdf) for c, pdf in zip(confirmations, pdfs, strict=True)]
            store(uow, facts)
            for document in documents:
                if uow.documents.add_if_absent(document):
                    uow.emit(issued_event(document), subject=str(document.id))
                    log.info(
                        "issued %s %s for contract %s", document.recipient_kind, document.kind, contract_id
                    )
            uow.commit()
            return
    raise DataChangedWhileRendering(f"the data of contract {contract_id} kept changing while rendering")


def _facts(uow: DocumentsUnitOfWork, contract_id: uuid.UUID) -> ContractFacts:
    return ContractFacts(
        contract=uow.contracts.get(contract_id),
        pending=uow.pending_access.get(contract_id),
        issued=uow.documents.issued_for(contract_id, REGISTRATION_CONFIRMATION),
    )


def _pdf_of(rendered: list[tuple[Confirmation, bytes]], confirmation: Confirmation) -> bytes | None:
    """The PDF rendered for exactly this confirmation (same data, same recipient), if any."""
    return next((pdf for done, pdf in rendered if done == confirmation), None)


def _pdfs_for(
    confirmations: list[Confirmation], rendered: list[tuple[Confirmation, bytes]]
) -> list[bytes] | None:
    """The PDFs of ``confirmations`` in order, or None if one of them has not been rendered."""
    pdfs = []
    for confirmation in confirmations:
        pdf = _pdf_of(rendered, confirmation)
        if pdf is None:
            return None
        pdfs.append(pdf)
    return pdfs


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


def open_document(cmd: OpenDocument, uow: DocumentsUnitOfWork, *, clock: Callable[[], datetime]) -> Document:
    """The document with its content; the recipient side's first opening is the read receipt."""
    with uow:
        document = access.readable(cmd.principal, uow.documents.get(cmd.document_id, with_content=True))
        opening = access.first_opening(document, cmd.principal, clock())
        if opening is not None and uow.documents.record_first_opening(opening):
            uow.emit(opened_event(document, opening), subject=str(document.id))
            uow.commit()
        return document


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
}
# Issuing renders PDFs between its two units of work (about a second each): in a batch the batch's
# transaction, and the contract turns its earlier events took, would stay open meanwhile.
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    ContractRegistered.TYPE: own_transaction(contract_registered),
    ApprenticeAccountPrepared.TYPE: own_transaction(apprentice_account_prepared),
}

"""Who may see which document: the one place documents' access rules live.

A document belongs to its recipient side: an apprentice's to that apprentice
(``apprentice_number`` claim), a company's to the company's Administrators and
Verwalter (DESIGN §4). Ausbilder see record books, not the company's contract
documents. Chamber staff see every document, for support, but their opening one
is never the recipient's read receipt. Documents and contracts that are not the
caller's are ``NotFound``: whether they exist is private.
"""

from __future__ import annotations

from datetime import datetime

from chassis.domain import NotFound
from chassis.principal import Principal
from documents.domain.model import APPRENTICE, ContractRecord, Document, Opening, Scope

# Company roles that deal with contracts (DESIGN §4: Administrator and Verwalter).
CONTRACT_ROLES = frozenset({"admin", "manager"})


def contract_companies(principal: Principal) -> frozenset[str]:
    """Companies whose contract documents ``principal`` may see."""
    return frozenset(number for number, roles in principal.company_roles.items() if roles & CONTRACT_ROLES)


def is_recipient_of(principal: Principal, document: Document) -> bool:
    """``principal`` belongs to the document's recipient side: the apprentice, or the company's staff."""
    if document.recipient_kind == APPRENTICE:
        return bool(principal.apprentice_number) and document.apprentice_number == principal.apprentice_number
    return document.company_number is not None and document.company_number in contract_companies(principal)


def may_read(principal: Principal, document: Document) -> bool:
    return principal.is_chamber or is_recipient_of(principal, document)


def readable(principal: Principal, document: Document | None) -> Document:
    """The document if ``principal`` may read it; otherwise it does not exist for them."""
    if document is None or not may_read(principal, document):
        raise NotFound("No such document.")
    return document


def contract_visible(principal: Principal, contract: ContractRecord | None) -> ContractRecord:
    """The contract if ``principal`` may see its documents (its company's Administrators and Verwalter, the chamber)."""
    if contract is None or not (
        principal.is_chamber or contract.company_number in contract_companies(principal)
    ):
        raise NotFound("No such contract.")
    return contract


def scope_of(principal: Principal) -> Scope:
    """The documents a listing shows ``principal``: all for the chamber, else their recipient side's."""
    return Scope(
        everything=principal.is_chamber,
        company_numbers=contract_companies(principal),
        apprentice_number=principal.apprentice_number or None,
    )


def first_opening(document: Document, principal: Principal, at: datetime) -> Opening | None:
    """The read receipt this opening creates, if any.

    Only the recipient side's *first* opening counts; chamber staff looking at a
    document (for support) must not make it appear read to the company.
    """
    if document.opened or not is_recipient_of(principal, document):
        return None
    return Opening(document.id, at, principal.subject)

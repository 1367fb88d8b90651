"""The documents domain: register data, access data, documents and who may see them.

Plain Python only. The rules here decide *whether* a confirmation is issued, who
owns a document, who may read it, and when an opening counts as the recipient's
read receipt; the service layer applies them inside a unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

RecipientKind = Literal["company", "apprentice"]
COMPANY: RecipientKind = "company"
APPRENTICE: RecipientKind = "apprentice"
RECIPIENT_KINDS: tuple[RecipientKind, ...] = (COMPANY, APPRENTICE)

REGISTRATION_CONFIRMATION = "registration_confirmation"
REGISTRATION_CONFIRMATION_TITLE = "Eintragungsbestätigung"

# Company roles that deal with contracts (DESIGN §4: Administrator and Verwalter).
# Ausbilder see record books only, not the company's contract documents.
CONTRACT_ROLES = frozenset({"admin", "manager"})


class DocumentsError(Exception):
    """Base class of this domain's errors."""


@dataclass
class ContractRecord:
    """Local read model of a registered training contract (from ``training.contract.registered``)."""

    contract_id: uuid.UUID
    contract_number: str
    registered_on: date
    start_date: date
    end_date: date
    occupation_code: str
    occupation_title: str
    company_number: str
    company_name: str
    company_email: str
    apprentice_first_name: str
    apprentice_last_name: str
    apprentice_birth_date: date
    apprentice_email: str
    apprentice_number: str | None = None

    @property
    def apprentice_name(self) -> str:
        return f"{self.apprentice_first_name} {self.apprentice_last_name}"


@dataclass(frozen=True)
class AccessData:
    """The apprentice's Zugangsdaten from ``identity.apprentice_account.prepared``.

    The activation code is a secret: it is left out of ``repr`` so that it can
    never reach a log line through this object.
    """

    contract_id: uuid.UUID
    apprentice_number: str
    # None when the apprentice's account is already active: no new code to print.
    activation_code: str | None = field(repr=False)
    expires_at: datetime | None

    @property
    def has_code(self) -> bool:
        return self.activation_code is not None


@dataclass(frozen=True)
class ConfirmationPolicy:
    """Which contracts get a digital Eintragungsbestätigung.

    Contracts entered in the register before the cutoff predate the portal's
    digital confirmations; their confirmations went out on paper.
    """

    cutoff: date

    def issues_for(self, contract: ContractRecord) -> bool:
        return contract.registered_on >= self.cutoff


@dataclass
class Document:
    """A PDF document owned by one recipient (a company or an apprentice)."""

    id: uuid.UUID
    kind: str
    title: str
    contract_id: uuid.UUID | None
    recipient_kind: str
    company_number: str | None
    apprentice_number: str | None
    recipient_name: str
    recipient_email: str
    filename: str
    media_type: str
    size: int
    sha256: str
    issued_at: datetime
    content: bytes = field(repr=False, default=b"")
    first_opened_at: datetime | None = None
    first_opened_by: str | None = None

    @property
    def opened(self) -> bool:
        return self.first_opened_at is not None


@dataclass(frozen=True)
class Viewer:
    """Who asks, reduced to what the access rules need (from the token's claims)."""

    subject: str
    is_chamber: bool = False
    company_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    apprentice_number: str | None = None

    @property
    def contract_companies(self) -> frozenset[str]:
        """Companies whose contract documents this viewer may see."""
        return frozenset(number for number, roles in self.company_roles.items() if roles & CONTRACT_ROLES)

    def is_recipient_of(self, document: Document) -> bool:
        """The viewer belongs to the recipient side: the apprentice, or the company's staff."""
        if document.recipient_kind == APPRENTICE:
            return self.apprentice_number is not None and document.apprentice_number == self.apprentice_number
        return document.company_number is not None and document.company_number in self.contract_companies

    def may_read(self, document: Document) -> bool:
        return self.is_chamber or self.is_recipient_of(document)

    def may_see_contract(self, contract: ContractRecord) -> bool:
        return self.is_chamber or contract.company_number in self.contract_companies


@dataclass(frozen=True)
class Scope:
    """The set of documents a listing may return, as a query the repository can run."""

    everything: bool = False
    company_numbers: frozenset[str] = frozenset()
    apprentice_number: str | None = None

    @classmethod
    def of(cls, viewer: Viewer) -> Scope:
        return cls(
            everything=viewer.is_chamber,
            company_numbers=viewer.contract_companies,
            apprentice_number=viewer.apprentice_number,
        )

    @property
    def empty(self) -> bool:
        return not (self.everything or self.company_numbers or self.apprentice_number)


@dataclass(frozen=True)
class Opening:
    """A recorded first opening: the read receipt."""

    document_id: uuid.UUID
    opened_at: datetime
    opened_by: str


def first_opening(document: Document, viewer: Viewer, at: datetime) -> Opening | None:
    """The read receipt this opening creates, if any.

    Only the recipient side's *first* opening counts; chamber staff looking at a
    document (for support) must not make it appear read to the company.
    """
    if document.opened or not viewer.is_recipient_of(document):
        return None
    return Opening(document.id, at, viewer.subject)


def safe_filename(*parts: str, suffix: str = ".pdf") -> str:
    """An ASCII filename safe for Content-Disposition, e.g. ``Eintragungsbestaetigung-2026-000001.pdf``."""
    text = "-".join(parts)
    for umlaut, plain in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
        ("ß", "ss"),
    ):
        text = text.replace(umlaut, plain)
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in text)
    cleaned = "-".join(filter(None, cleaned.split("-"))).strip(".") or "dokument"
    return cleaned[:120] + suffix


@dataclass
class PendingAccess:
    """Access data that arrived before its contract, kept sealed until the contract is known.

    The activation code is stored only encrypted (``sealed_code``) and deleted as
    soon as the apprentice's confirmation is issued; in plain text it exists
    only inside that PDF.
    """

    contract_id: uuid.UUID
    apprentice_number: str
    sealed_code: bytes | None = field(repr=False)  # None: an active account, no code
    expires_at: datetime
    received_at: datetime


@dataclass(frozen=True)
class Confirmation:
    """What one Eintragungsbestätigung says: the register data, and for the apprentice the access data."""

    contract: ContractRecord
    recipient_kind: RecipientKind
    issued_at: datetime
    access: AccessData | None = None
    activation_url: str | None = None

    @property
    def title(self) -> str:
        return f"{REGISTRATION_CONFIRMATION_TITLE} {self.contract.contract_number}"

    @property
    def filename(self) -> str:
        side = "Betrieb" if self.recipient_kind == COMPANY else "Auszubildende"
        return safe_filename(REGISTRATION_CONFIRMATION_TITLE, self.contract.contract_number, side)


@dataclass(frozen=True)
class DocumentFilter:
    """Optional narrowing of a document listing (within the viewer's scope)."""

    unread: bool | None = None
    contract_id: uuid.UUID | None = None
    company_number: str | None = None
    apprentice_number: str | None = None
    recipient_kind: str | None = None
    limit: int = 100


class DocumentNotFound(DocumentsError):
    """No such document, or not one the viewer may know about."""


class ContractNotFound(DocumentsError):
    """No such contract, or not one the viewer may know about."""

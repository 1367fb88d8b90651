"""The documents domain: register data, access data, the confirmations a contract is owed, documents.

Plain Python only. The rules here decide *whether* and *which* confirmations are
issued and what a document records; who may read a document is in
``documents.domain.access``. The service layer applies both in units of work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

RecipientKind = Literal["company", "apprentice"]
COMPANY: RecipientKind = "company"
APPRENTICE: RecipientKind = "apprentice"
RECIPIENT_KINDS: tuple[RecipientKind, ...] = (COMPANY, APPRENTICE)

REGISTRATION_CONFIRMATION = "registration_confirmation"
REGISTRATION_CONFIRMATION_TITLE = "Eintragungsbestätigung"
PDF = "application/pdf"


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

    def due(
        self,
        contract: ContractRecord | None,
        access: AccessData | None,
        issued: Set[str],
        *,
        at: datetime,
        activation_url: str,
    ) -> list[Confirmation]:
        """The confirmations a contract is owed and does not have yet (``issued``: recipient kinds).

        None before the contract is known, none for a contract before the cutoff; the
        company's as soon as the contract is known; the apprentice's once their access
        data is there too, whichever of the two arrived first.
        """
        if contract is None or not self.issues_for(contract):
            return []
        due = []
        if COMPANY not in issued:
            # The company's confirmation names no Azubinummer.
            due.append(Confirmation(dataclasses.replace(contract, apprentice_number=None), COMPANY, at))
        if access is not None and APPRENTICE not in issued:
            addressed = dataclasses.replace(contract, apprentice_number=access.apprentice_number)
            url = activation_url if access.has_code else None
            due.append(Confirmation(addressed, APPRENTICE, at, access, url))
        return due


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

    @classmethod
    def issue(cls, confirmation: Confirmation, pdf: bytes) -> Document:
        """The stored document of a rendered confirmation, addressed to its recipient."""
        contract = confirmation.contract
        is_company = confirmation.recipient_kind == COMPANY
        return cls(
            id=uuid.uuid4(),
            kind=REGISTRATION_CONFIRMATION,
            title=confirmation.title,
            contract_id=contract.contract_id,
            recipient_kind=confirmation.recipient_kind,
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


@dataclass(frozen=True)
class Opening:
    """A recorded first opening: the read receipt."""

    document_id: uuid.UUID
    opened_at: datetime
    opened_by: str


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

    def opened_with(self, code: str | None) -> AccessData:
        """The access data again, with the code ``sealed_code`` was opened to."""
        return AccessData(
            contract_id=self.contract_id,
            apprentice_number=self.apprentice_number,
            activation_code=code,
            expires_at=self.expires_at if code is not None else None,
        )


@dataclass(frozen=True)
class ContractFacts:
    """What this service knows of one contract, as read in one unit of work."""

    contract: ContractRecord | None
    pending: PendingAccess | None
    issued: frozenset[str]  # recipient kinds whose confirmation exists


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
    """Optional narrowing of a document listing (within the caller's scope)."""

    unread: bool | None = None
    contract_id: uuid.UUID | None = None
    company_number: str | None = None
    apprentice_number: str | None = None
    recipient_kind: str | None = None


@dataclass(frozen=True)
class Scope:
    """The documents a listing may return, as a query the repository can run (see ``access.scope_of``)."""

    everything: bool = False
    company_numbers: frozenset[str] = frozenset()
    apprentice_number: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.everything or self.company_numbers or self.apprentice_number)

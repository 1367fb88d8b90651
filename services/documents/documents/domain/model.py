"""The documents domain: register data, access data, the confirmations a contract is owed, documents.

Plain Python only. The rules here decide *whether* and *which* confirmations are
issued and what a document records; who may read a document is in
``documents.domain.access``. The service layer applies both in units of work.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

RecipientKind = Literal["company", "apprentice"]
COMPANY: RecipientKind = "company"
APPRENTICE: RecipientKind = "apprentice"
RECIPIENT_KINDS: tuple[RecipientKind, ...] = (COMPANY, APPRENTICE)

REGISTRATION_CONFIRMATION = "registration_confirmation"
REGISTRATION_CONFIRMATION_TITLE = "Eintragungsbestätigung"
# The version of the registration confirmation's template (and of its fields) new documents
# are sealed with. A change to what the PDF shows is a new version; the renderer keeps every
# version that sealed documents still name, so a document renders as it was issued.
REGISTRATION_CONFIRMATION_VERSION = 1
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
    """A PDF document owned by one recipient (a company or an apprentice).

    Issued *sealed*: ``sealed_data`` holds its content (``DocumentContent``, encrypted by
    the service layer) and ``sealed_sha256`` that content's digest, fixed at issue. The PDF
    is rendered from it on the first opening; from then on ``content`` holds the bytes
    every later opening answers (``sha256``, ``size`` and ``rendered_at`` with them).
    Documents issued before sealing existed were rendered at issue and have no seal.
    """

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
    issued_at: datetime
    template: str | None = None
    template_version: int | None = None
    sealed_data: bytes | None = field(repr=False, default=None)
    sealed_sha256: str | None = None
    content: bytes | None = field(repr=False, default=None)
    size: int | None = None
    sha256: str | None = None
    rendered_at: datetime | None = None
    first_opened_at: datetime | None = None
    first_opened_by: str | None = None

    @property
    def opened(self) -> bool:
        return self.first_opened_at is not None

    @property
    def rendered(self) -> bool:
        return self.content is not None

    @classmethod
    def issue(cls, confirmation: Confirmation, content: DocumentContent, sealed_data: bytes) -> Document:
        """The stored document of a confirmation, addressed to its recipient: sealed, not yet rendered.

        ``sealed_data`` is ``content.canonical()`` as the service layer sealed it.
        """
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
            issued_at=confirmation.issued_at,
            template=content.template,
            template_version=content.template_version,
            sealed_data=sealed_data,
            sealed_sha256=content.sha256,
        )


@dataclass(frozen=True)
class Rendering:
    """The PDF of a document as rendered once and stored: every later opening answers these bytes."""

    document_id: uuid.UUID
    content: bytes = field(repr=False)
    rendered_at: datetime

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


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

    def fields(self) -> dict[str, Any]:
        """What the PDF shows, as JSON values (version ``REGISTRATION_CONFIRMATION_VERSION``).

        Exactly the template's inputs: no e-mail addresses, no ids the PDF does not print.
        """
        contract = self.contract
        access = None
        if self.access is not None:
            expires_at = self.access.expires_at
            access = {
                "apprentice_number": self.access.apprentice_number,
                "activation_code": self.access.activation_code,
                "expires_at": expires_at.isoformat() if expires_at is not None else None,
            }
        return {
            "title": self.title,
            "recipient_kind": self.recipient_kind,
            "issued_at": self.issued_at.isoformat(),
            "contract": {
                "contract_number": contract.contract_number,
                "registered_on": contract.registered_on.isoformat(),
                "company_name": contract.company_name,
                "company_number": contract.company_number,
                "apprentice_name": contract.apprentice_name,
                "apprentice_birth_date": contract.apprentice_birth_date.isoformat(),
                "occupation_title": contract.occupation_title,
                "occupation_code": contract.occupation_code,
                "start_date": contract.start_date.isoformat(),
                "end_date": contract.end_date.isoformat(),
            },
            "access": access,
            "activation_url": self.activation_url,
        }

    def document_content(self, salt: str | None = None) -> DocumentContent:
        """The immutable content of this confirmation's document, to be sealed at issue."""
        return DocumentContent(
            template=REGISTRATION_CONFIRMATION,
            template_version=REGISTRATION_CONFIRMATION_VERSION,
            fields=self.fields(),
            salt=salt if salt is not None else DocumentContent.new_salt(),
        )


class UnreadableSeal(Exception):
    """Sealed data cannot be opened (the secret changed or the data was altered)."""


class BrokenSeal(Exception):
    """Opened sealed content does not match its digest, or is not a document's content at all."""


@dataclass(frozen=True)
class DocumentContent:
    """What a document shows, fixed when it is issued: template, template version and fields.

    ``canonical()`` is its one byte-exact JSON form (sorted keys, no insignificant white
    space, UTF-8), ``sha256`` the digest of that form. ``salt`` (random per document) is part
    of it, so the stored digest commits to the content without revealing it: without it,
    the digest of an apprentice's confirmation could be used to guess its activation code
    offline, trying one code after the other.
    """

    template: str
    template_version: int
    fields: Mapping[str, Any] = field(repr=False)
    salt: str = field(repr=False)

    @staticmethod
    def new_salt() -> str:
        return secrets.token_hex(16)

    def canonical(self) -> str:
        return self._canonical

    @functools.cached_property
    def _canonical(self) -> str:
        # Computed once: sealing and the digest both need it (the instance is immutable).
        return json.dumps(
            {
                "template": self.template,
                "template_version": self.template_version,
                "salt": self.salt,
                "fields": self.fields,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    @classmethod
    def from_canonical(cls, text: str, *, sha256: str) -> DocumentContent:
        """The content ``text`` is the canonical form of, if its digest is ``sha256``."""
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha256:
            raise BrokenSeal("the sealed content does not match its digest")
        try:
            data = json.loads(text)
            content = cls(
                template=data["template"],
                template_version=data["template_version"],
                fields=data["fields"],
                salt=data["salt"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BrokenSeal("the sealed content is not a document's content") from exc
        if content.canonical() != text:
            raise BrokenSeal("the sealed content is not in canonical form")
        return content


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

"""Access letters (Anschreiben): the chamber prints and posts a company's or apprentice's one-time
Aktivierungscode with its number and directions how to register and activate.

A letter is sealed like every document (its content, with the code, encrypted by the service
layer) and rendered on its first opening. Only chamber staff open letters: they hold a code
that makes whoever types it the company's Administrator, so not even the company's own
Verwalter may read one. A newer letter for the same number supersedes the earlier (whose code
no longer works); the list shows what is still to print.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chassis.domain import NotFound
from chassis.principal import Principal
from documents.domain.model import DocumentContent

ACCESS_LETTER = "access_letter"
ACCESS_LETTER_VERSION = 1
COMPANY_KIND = "company"


@dataclass
class AccessLetter:
    id: uuid.UUID
    kind: str  # company | apprentice
    number: str  # Identnummer or Azubinummer
    name: str
    reason: str  # registered | requested
    issued_at: datetime
    expires_at: datetime
    template: str
    template_version: int
    sealed_data: bytes | None = field(repr=False, default=None)
    sealed_sha256: str | None = None
    content: bytes | None = field(repr=False, default=None)
    size: int | None = None
    sha256: str | None = None
    rendered_at: datetime | None = None
    printed_at: datetime | None = None
    printed_by: str | None = None
    superseded_at: datetime | None = None

    @property
    def rendered(self) -> bool:
        return self.content is not None

    @property
    def title(self) -> str:
        who = "Ausbildungsbetrieb" if self.kind == COMPANY_KIND else "Auszubildende/r"
        return f"Anschreiben mit Zugangsdaten ({who} {self.number})"

    @property
    def filename(self) -> str:
        return f"Anschreiben-{self.number}-{self.issued_at:%Y%m%d}.pdf"

    def mark_printed(self, by: str, at: datetime) -> None:
        if self.printed_at is None:
            self.printed_at, self.printed_by = at, by


@dataclass(frozen=True)
class LetterFacts:
    """What the letter shows (sealed): the code is in it, so it lives only in the seal."""

    kind: str
    number: str
    name: str
    street: str | None
    postal_code: str | None
    city: str | None
    activation_code: str = field(repr=False)
    expires_at: datetime
    issued_at: datetime
    reason: str

    def content(self, unlock_url: str, register_url: str) -> DocumentContent:
        fields: dict[str, Any] = {
            "title": "Ihre Zugangsdaten zum Bildungsportal",
            "kind": self.kind,
            "number": self.number,
            "name": self.name,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "activation_code": self.activation_code,
            "expires_at": self.expires_at.isoformat(),
            "issued_at": self.issued_at.isoformat(),
            "reason": self.reason,
            "unlock_url": unlock_url,
            "register_url": register_url,
        }
        return DocumentContent(ACCESS_LETTER, ACCESS_LETTER_VERSION, fields, DocumentContent.new_salt())

    def letter(self, content: DocumentContent, sealed_data: bytes) -> AccessLetter:
        return AccessLetter(
            id=uuid.uuid4(),
            kind=self.kind,
            number=self.number,
            name=self.name,
            reason=self.reason,
            issued_at=self.issued_at,
            expires_at=self.expires_at,
            template=content.template,
            template_version=content.template_version,
            sealed_data=sealed_data,
            sealed_sha256=content.sha256,
        )


def check_may_handle_letters(principal: Principal) -> None:
    """Chamber staff only; for everyone else letters do not exist (404)."""
    if not principal.is_chamber:
        raise NotFound("No such letter.")

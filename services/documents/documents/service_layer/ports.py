"""What the use cases need from the outside world besides the database, as protocols (fakes in unit tests)."""

from __future__ import annotations

from typing import Protocol

from documents.domain.model import DocumentContent


class DocumentRenderer(Protocol):
    def render(self, content: DocumentContent) -> bytes:
        """The document as PDF bytes, from the template and version ``content`` names.

        Slow (WeasyPrint): called with no transaction open, on a document's first opening.
        """
        ...


class Vault(Protocol):
    """Authenticated encryption with the service's secret.

    ``open`` raises ``documents.domain.model.UnreadableSeal`` when the data was sealed
    with another secret or was altered.
    """

    def seal(self, plain: str) -> bytes: ...

    def open(self, sealed: bytes) -> str: ...

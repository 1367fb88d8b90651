"""What issuing needs from the outside world besides the database, as protocols (fakes in unit tests)."""

from __future__ import annotations

from typing import Protocol

from documents.domain.model import Confirmation


class ConfirmationRenderer(Protocol):
    def registration_confirmation(self, confirmation: Confirmation) -> bytes:
        """The Eintragungsbestätigung as PDF bytes (slow: called with no transaction open)."""
        ...


class CredentialVault(Protocol):
    def seal(self, plain: str) -> bytes: ...

    def open(self, sealed: bytes) -> str: ...

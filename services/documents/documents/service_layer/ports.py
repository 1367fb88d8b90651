"""What the use cases need from the outside world, as protocols (fakes implement them in unit tests)."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from documents.adapters.repository import ContractRepository, DocumentRepository, PendingAccessRepository
from documents.domain.model import Confirmation


class ConfirmationRenderer(Protocol):
    def registration_confirmation(self, confirmation: Confirmation) -> bytes:
        """The Eintragungsbestätigung as PDF bytes."""
        ...


class CredentialVault(Protocol):
    def seal(self, plain: str) -> bytes: ...

    def open(self, sealed: bytes) -> str: ...


class UnitOfWork(Protocol):
    """The unit of work the use cases see (DocumentsUnitOfWork, or a fake in unit tests)."""

    contracts: ContractRepository
    documents: DocumentRepository
    pending_access: PendingAccessRepository

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Any: ...

    def commit(self) -> None: ...

    def lock_contract(self, contract_id: uuid.UUID) -> None: ...

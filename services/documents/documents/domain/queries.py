"""The questions documents answers (queries): frozen dataclasses, dispatched by the message bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chassis.messages import Query
from chassis.pagination import PageRequest
from chassis.principal import Principal
from documents.domain.model import DocumentFilter


@dataclass(frozen=True)
class ListDocuments(Query):
    """The caller's documents ("Dokumente"), newest first, narrowed by ``filters``."""

    principal: Principal
    page: PageRequest
    filters: DocumentFilter = field(default_factory=DocumentFilter)


@dataclass(frozen=True)
class GetDocument(Query):
    """One document's metadata (reading it records nothing)."""

    principal: Principal
    document_id: uuid.UUID


@dataclass(frozen=True)
class ListContractDocuments(Query):
    """A contract's documents with their read receipts, oldest first."""

    principal: Principal
    contract_id: uuid.UUID
    page: PageRequest


@dataclass(frozen=True)
class ListUnrendered(Query):
    """Ids of documents whose PDF is not rendered yet, in id order, after ``after`` (operators only)."""

    after: uuid.UUID | None = None
    limit: int = 100

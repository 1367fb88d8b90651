"""What callers ask documents to do (commands): frozen dataclasses, dispatched by the message bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chassis.messages import Command
from chassis.principal import Principal


@dataclass(frozen=True)
class OpenDocument(Command):
    """The PDF itself; the recipient side's first opening records the read receipt."""

    principal: Principal
    document_id: uuid.UUID


@dataclass(frozen=True)
class RenderDocument(Command):
    """Render a document's PDF ahead of its first opening (operators: ``bp-documents render-pending``).

    No principal: it shows the document to nobody and records no read receipt.
    """

    document_id: uuid.UUID

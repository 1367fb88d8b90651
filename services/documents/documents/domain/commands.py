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

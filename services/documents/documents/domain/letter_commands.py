"""Commands and queries of the access letters (chamber staff only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chassis.messages import Command
from chassis.principal import Principal


@dataclass(frozen=True)
class ListAccessLetters(Command):
    principal: Principal
    to_print_only: bool = True
    limit: int = 100


@dataclass(frozen=True)
class OpenAccessLetter(Command):
    """The letter with its PDF (rendered now if it is the first opening)."""

    principal: Principal
    letter_id: uuid.UUID


@dataclass(frozen=True)
class MarkLetterPrinted(Command):
    principal: Principal
    letter_id: uuid.UUID

"""Access letters (Anschreiben): issued from identity's ``identity.access_code.issued``, printed by the chamber.

Issuing seals the letter (its content holds the code) in one short unit of work and renders
nothing; the PDF is rendered on the first opening, like every document. No
``documents.document.issued`` leaves: the letter goes by post, nobody is to be told by mail
that it is in the portal. The bootstrap merges these mappings into the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chassis.contracts.identity import AccessCodeIssued
from chassis.domain import NotFound
from chassis.events.incoming import IncomingEvent
from documents.domain.access_letters import AccessLetter, LetterFacts, check_may_handle_letters
from documents.domain.letter_commands import ListAccessLetters, MarkLetterPrinted, OpenAccessLetter
from documents.service_layer.handlers import Reading, render
from documents.service_layer.ports import Vault
from documents.service_layer.unit_of_work import DocumentsUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lettering:
    """What issuing letters needs: the seal, the clock and the portal addresses the letter names."""

    seals: Vault
    unlock_url: str  # the portal's "Zugang freischalten"
    register_url: str  # where a person without an account registers
    clock: Callable[[], datetime]


def access_code_issued(
    event: IncomingEvent[AccessCodeIssued], uow: DocumentsUnitOfWork, *, lettering: Lettering
) -> None:
    """Seal the new letter; earlier letters of the number are superseded (their code is void)."""
    data = event.payload
    facts = LetterFacts(
        kind=data.kind,
        number=data.number,
        name=data.name,
        street=data.street,
        postal_code=data.postal_code,
        city=data.city,
        activation_code=data.activation_code,
        expires_at=data.expires_at,
        issued_at=data.issued_at,
        reason=data.reason,
    )
    content = facts.content(lettering.unlock_url, lettering.register_url)
    letter = facts.letter(content, lettering.seals.seal(content.canonical()))
    with uow:
        uow.access_letters.supersede(letter.kind, letter.number, lettering.clock())
        uow.access_letters.add(letter)
        uow.commit()
    log.info("access letter %s issued for %s %s", letter.id, letter.kind, letter.number)


def list_access_letters(query: ListAccessLetters, uow: DocumentsUnitOfWork) -> list[AccessLetter]:
    check_may_handle_letters(query.principal)
    with uow:
        return uow.access_letters.newest(to_print_only=query.to_print_only, limit=query.limit)


def open_access_letter(cmd: OpenAccessLetter, uow: DocumentsUnitOfWork, *, reading: Reading) -> AccessLetter:
    """The letter with its PDF; rendered on the first opening with no transaction open."""
    check_may_handle_letters(cmd.principal)
    with uow:
        letter = uow.access_letters.get(cmd.letter_id, with_content=True)
        if letter is None:
            raise NotFound("No such letter.")
        if letter.rendered:
            return letter
    rendering = render(letter, reading)
    with uow:
        uow.access_letters.store_rendering(rendering)
        uow.commit()
    with uow:
        stored = uow.access_letters.get(cmd.letter_id, with_content=True)
        assert stored is not None and stored.rendered
        return stored


def mark_letter_printed(
    cmd: MarkLetterPrinted, uow: DocumentsUnitOfWork, *, reading: Reading
) -> AccessLetter:
    check_may_handle_letters(cmd.principal)
    with uow:
        letter = uow.access_letters.get(cmd.letter_id)
        if letter is None:
            raise NotFound("No such letter.")
        letter.mark_printed(cmd.principal.subject, reading.clock())
        uow.commit()
        return letter


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    ListAccessLetters: list_access_letters,
    OpenAccessLetter: open_access_letter,
    MarkLetterPrinted: mark_letter_printed,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {AccessCodeIssued.TYPE: access_code_issued}

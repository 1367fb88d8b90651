"""What has happened downstream of a registration, as steps the UI can show.

Registering a contract starts work in three other services (account, documents,
mail); the contract page shows how far it has got instead of leaving people guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.web.services import Contract, Document

REGISTER_STATES = frozenset({"registered", "interrupted", "completed", "terminated"})

# The background work takes seconds; a step still open after this long is not
# "in progress" any more (e.g. a contract entered before the digital confirmation,
# or one taken over from the chamber's register without its documents).
STILL_RUNNING_FOR = timedelta(days=2)


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    running: bool  # not done, but expected to be soon

    @property
    def status(self) -> str:
        if self.done:
            return "erledigt"
        return "in Bearbeitung" if self.running else "nicht vorhanden"


def progress_steps(contract: Contract, documents: Sequence[Document], today: date) -> list[Step]:
    kinds = {d.recipient_kind for d in documents if d.kind == "registration_confirmation"}
    recent = contract.registered_on is None or today - contract.registered_on <= STILL_RUNNING_FOR
    return [
        Step(label, done, running=not done and recent)
        for label, done in (
            # Every state of the register (unterbrochen, abgeschlossen, …) comes after the entry.
            ("Ausbildungsverhältnis eingetragen", contract.state in REGISTER_STATES),
            ("Zugangsdaten für die/den Auszubildende/n vorbereitet", bool(contract.apprentice_number)),
            ("Eintragungsbestätigung für den Ausbildungsbetrieb erstellt", "company" in kinds),
            ("Eintragungsbestätigung für die/den Auszubildende/n erstellt", "apprentice" in kinds),
        )
    ]

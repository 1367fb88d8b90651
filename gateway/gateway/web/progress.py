"""What has happened downstream of a registration, as steps the UI can show.

Registering a contract starts work in three other services (account, documents,
mail); the contract page shows how far it has got instead of leaving people guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.web.services import Contract, Document


@dataclass(frozen=True)
class Step:
    label: str
    done: bool


def progress_steps(contract: Contract, documents: Sequence[Document]) -> list[Step]:
    kinds = {d.recipient_kind for d in documents if d.kind == "registration_confirmation"}
    return [
        Step("Ausbildungsverhältnis eingetragen", contract.state == "registered"),
        Step("Zugangsdaten für die/den Auszubildende/n vorbereitet", bool(contract.apprentice_number)),
        Step("Eintragungsbestätigung für den Ausbildungsbetrieb erstellt", "company" in kinds),
        Step("Eintragungsbestätigung für die/den Auszubildende/n erstellt", "apprentice" in kinds),
    ]

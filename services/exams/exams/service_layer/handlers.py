"""Event handlers: each runs in one unit of work that the consumer commits with its inbox row."""

from __future__ import annotations

from typing import Any

from chassis.events.consumer import IncomingEvent
from exams.domain.model import RegisteredContract


def contract_registered(event: IncomingEvent, uow: Any) -> None:
    data = event.data
    contract_id = str(data["contract_id"])
    if uow.contracts.get(contract_id) is not None:
        # Same contract under a new event id (e.g. a replay): the read model already has it.
        return
    uow.contracts.add(
        RegisteredContract(
            contract_id=contract_id,
            contract_number=data["contract_number"],
            company_number=data["company"]["company_number"],
            company_name=data["company"]["name"],
            apprentice_first_name=data["apprentice"]["first_name"],
            apprentice_last_name=data["apprentice"]["last_name"],
            apprentice_birth_date=data["apprentice"]["birth_date"],
            occupation_code=data["occupation"]["code"],
            occupation_title=data["occupation"]["title"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            registered_on=data["registered_on"],
        )
    )


HANDLERS = {"training.contract.registered": contract_registered}

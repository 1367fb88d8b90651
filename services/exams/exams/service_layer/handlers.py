"""exams' use cases: every command, query and event handler, as ``handle(message, uow)``.

Each handler owns its unit of work: it opens it and commits what it changes
(for an event, the inbox row joins that commit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chassis.contracts.training import ContractRegistered
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page
from exams.domain import access
from exams.domain.model import RegisteredContract
from exams.domain.queries import ListRegisteredContracts
from exams.service_layer.unit_of_work import ExamsUnitOfWork


def list_registered_contracts(
    query: ListRegisteredContracts, uow: ExamsUnitOfWork
) -> Page[RegisteredContract]:
    companies = access.contract_companies_visible_to(query.principal)
    with uow:
        return uow.contracts.page_for_companies(companies, query.page)


def contract_registered(event: IncomingEvent[ContractRegistered], uow: ExamsUnitOfWork) -> None:
    """Keep the read model of registered contracts that exam registration needs."""
    data = event.payload
    with uow:
        if uow.contracts.get(str(data.contract_id)) is not None:
            # Same contract under a new event id (e.g. a replay): the read model already has it.
            return
        uow.contracts.add(
            RegisteredContract(
                contract_id=str(data.contract_id),
                contract_number=data.contract_number,
                company_number=data.company.company_number,
                company_name=data.company.name,
                apprentice_first_name=data.apprentice.first_name,
                apprentice_last_name=data.apprentice.last_name,
                apprentice_birth_date=data.apprentice.birth_date,
                occupation_code=data.occupation.code,
                occupation_title=data.occupation.title,
                start_date=data.start_date,
                end_date=data.end_date,
                registered_on=data.registered_on,
            )
        )
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[[Any, ExamsUnitOfWork], Any]] = {
    ListRegisteredContracts: list_registered_contracts,
}
EVENT_HANDLERS: Mapping[str, Callable[[Any, ExamsUnitOfWork], None]] = {
    ContractRegistered.TYPE: contract_registered,
}

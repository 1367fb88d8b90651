"""training-records' use cases: every command, query and event handler, as ``handle(message, uow, *, deps)``.

Each handler owns its unit of work: it opens it and commits what it changes (for an
event, the inbox row joins that commit; the bus records it alone if the handler
changes nothing). Dependencies such as the clock are bound by the bootstrap.
An event about a contract we do not know raises: the consumer retries it and
finally dead-letters it for a human.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from chassis.contracts.documents import DocumentOpened
from chassis.contracts.identity import AccountActivated, ApprenticeAccountPrepared
from chassis.contracts.training import ApprenticeRef, CompanyRef, ContractRegistered, OccupationRef
from chassis.domain import FieldPath, RuleViolation
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page
from chassis.uow import IntegrityError
from training_records.domain import access
from training_records.domain.commands import CompanyDetails, RegisterContract
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    Company,
    Contract,
    ContractState,
    Occupation,
    RecipientKind,
    check_new_contract,
    format_contract_number,
)
from training_records.domain.queries import (
    ContractView,
    GetContract,
    ListCompanies,
    ListContracts,
    ListOccupations,
)
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

log = logging.getLogger(__name__)

# A concurrent registration can win a race for a new company's row; we then retry
# and find it. More conflicts than this mean something else is wrong.
MAX_ATTEMPTS = 3
REGISTRATION_CONFIRMATION = "registration_confirmation"


class UnknownContract(LookupError):
    """An event names a contract that is not in the register."""


# -- commands -------------------------------------------------------------------------------------


def register_contract(
    cmd: RegisterContract, uow: TrainingRecordsUnitOfWork, *, today: Callable[[], date]
) -> Contract:
    """Enter a contract in the register and announce it, atomically.

    A company not yet in the register is created from the given data (name and
    e-mail then required). For a known company the register's master data
    stays authoritative: details given that differ from it are refused rather
    than silently overwritten or ignored.
    """
    access.check_may_register(cmd.principal)
    current_day = today()
    registered_on = cmd.registered_on or current_day
    errors: dict[FieldPath | str, str] = {}
    try:
        check_new_contract(
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            registered_on=registered_on,
            birth_date=cmd.apprentice.birth_date,
            today=current_day,
        )
    except RuleViolation as violation:
        errors.update(violation.errors.items())

    attempt = 1
    while True:
        try:
            contract = _register(cmd, registered_on, errors, uow)
        except IntegrityError:
            if attempt >= MAX_ATTEMPTS:
                raise
            attempt += 1
            continue
        log.info("contract %s registered by %s", contract.contract_number, cmd.principal.subject)
        return contract


def _register(
    cmd: RegisterContract,
    registered_on: date,
    rule_errors: dict[FieldPath | str, str],
    uow: TrainingRecordsUnitOfWork,
) -> Contract:
    errors = dict(rule_errors)
    with uow:
        occupation = uow.occupations.get(cmd.occupation_code)
        if occupation is None:
            errors[("occupation_code",)] = "Unknown occupation code."
        company = _known_or_new_company(cmd.company, uow, errors)
        if errors:
            raise RuleViolation(errors)
        assert occupation is not None and company is not None

        apprentice = Apprentice(
            id=uuid.uuid4(),
            first_name=cmd.apprentice.first_name,
            last_name=cmd.apprentice.last_name,
            birth_date=cmd.apprentice.birth_date,
            email=cmd.apprentice.email,
        )
        uow.apprentices.add(apprentice)
        sequence = uow.contract_numbers.next_value(registered_on.year)
        contract = Contract(
            id=uuid.uuid4(),
            contract_number=format_contract_number(registered_on.year, sequence),
            company_number=company.company_number,
            apprentice_id=apprentice.id,
            occupation_code=occupation.code,
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            registered_on=registered_on,
            state=ContractState.REGISTERED,
            registered_by=cmd.principal.subject,
        )
        uow.contracts.add(contract)
        uow.emit(contract_registered(contract, company, apprentice, occupation), subject=str(contract.id))
        uow.commit()
    return contract


def _known_or_new_company(
    details: CompanyDetails, uow: TrainingRecordsUnitOfWork, errors: dict[FieldPath | str, str]
) -> Company | None:
    company = uow.companies.get(details.company_number)
    if company is not None:
        for name in company.differences(**details.master_data()):
            errors[("company", name)] = (
                f"Differs from the register's master data of company {company.company_number}; "
                "omit it or change the company's data first."
            )
        return company
    for name in ("name", "email"):
        if not getattr(details, name):
            errors[("company", name)] = "Required for a company not yet in the register."
    if errors:
        return None
    assert details.name is not None and details.email is not None
    company = Company(
        company_number=details.company_number,
        name=details.name,
        email=details.email,
        street=details.street,
        postal_code=details.postal_code,
        city=details.city,
    )
    uow.companies.add(company)
    return company


def contract_registered(
    contract: Contract, company: Company, apprentice: Apprentice, occupation: Occupation
) -> ContractRegistered:
    """The ``training.contract.registered`` v1 payload (shared/chassis/contracts/training.py)."""
    return ContractRegistered(
        contract_id=contract.id,
        contract_number=contract.contract_number,
        registered_on=contract.registered_on,
        start_date=contract.start_date,
        end_date=contract.end_date,
        occupation=OccupationRef(code=occupation.code, title=occupation.title),
        company=CompanyRef(company_number=company.company_number, name=company.name, email=company.email),
        apprentice=ApprenticeRef(
            first_name=apprentice.first_name,
            last_name=apprentice.last_name,
            birth_date=apprentice.birth_date,
            email=apprentice.email,
        ),
    )


# -- queries --------------------------------------------------------------------------------------


def list_contracts(query: ListContracts, uow: TrainingRecordsUnitOfWork) -> Page[ContractView]:
    visibility = access.ContractVisibility.of(query.principal)
    with uow:
        return uow.contracts.page_views(visibility, query.filters, query.page)


def get_contract(query: GetContract, uow: TrainingRecordsUnitOfWork) -> ContractView:
    with uow:
        found = uow.contracts.view(query.contract_id)
    return access.visible_contract(query.principal, found)


def list_companies(query: ListCompanies, uow: TrainingRecordsUnitOfWork) -> Page[Company]:
    visibility = access.CompanyVisibility.of(query.principal)
    with uow:
        return uow.companies.page_visible(visibility, query.page)


def list_occupations(query: ListOccupations, uow: TrainingRecordsUnitOfWork) -> Page[Occupation]:
    with uow:
        return uow.occupations.page_all(query.page)


# -- events ---------------------------------------------------------------------------------------


def _contract(uow: TrainingRecordsUnitOfWork, contract_id: uuid.UUID) -> Contract:
    contract = uow.contracts.get(contract_id)
    if contract is None:
        raise UnknownContract(f"contract {contract_id} is not in the register")
    return contract


def apprentice_account_prepared(
    event: IncomingEvent[ApprenticeAccountPrepared], uow: TrainingRecordsUnitOfWork
) -> None:
    """Remember the Azubinummer and that the account awaits activation.

    The payload also carries the one-time activation code; it is deliberately
    not stored here (only documents prints it into the confirmation).
    """
    data = event.payload
    with uow:
        contract = _contract(uow, data.contract_id)
        apprentice = uow.apprentices.get(contract.apprentice_id)
        if apprentice is None:  # pragma: no cover - the foreign key makes this impossible
            raise UnknownContract(f"contract {contract.id} has no apprentice")
        apprentice.assign_number(data.apprentice_number)
        account = uow.accounts.get(data.apprentice_number)
        if account is None:
            uow.accounts.add(
                ApprenticeAccount(data.apprentice_number, data.account_id, AccountState.PREPARED)
            )
        else:
            account.mark_prepared()
        uow.commit()


def account_activated(event: IncomingEvent[AccountActivated], uow: TrainingRecordsUnitOfWork) -> None:
    """Mark the apprentice's account active.

    Keyed by Azubinummer, so it works even if it overtakes the "prepared" event
    (both queues may hold messages after an outage); state only moves forward.
    """
    data = event.payload
    number = data.apprentice_number
    if number is None:
        return  # not an apprentice's account: nothing in our register refers to it
    with uow:
        account = uow.accounts.get(number)
        if account is None:
            account = ApprenticeAccount(number, data.account_id, AccountState.ACTIVE)
            uow.accounts.add(account)
        account.mark_activated(data.activated_at)
        uow.commit()


def document_opened(event: IncomingEvent[DocumentOpened], uow: TrainingRecordsUnitOfWork) -> None:
    """Record when a contract's Eintragungsbestätigung was first opened, per recipient."""
    data = event.payload
    if data.kind != REGISTRATION_CONFIRMATION or data.contract_id is None:
        return  # other documents are not part of the register
    with uow:
        contract = _contract(uow, data.contract_id)
        recipient = RecipientKind(data.recipient_kind)
        if not contract.record_confirmation_opened(recipient, data.opened_at):
            log.info("confirmation of %s already opened by %s", contract.contract_number, recipient.value)
            return
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    RegisterContract: register_contract,
    ListContracts: list_contracts,
    GetContract: get_contract,
    ListCompanies: list_companies,
    ListOccupations: list_occupations,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    ApprenticeAccountPrepared.TYPE: apprentice_account_prepared,
    AccountActivated.TYPE: account_activated,
    DocumentOpened.TYPE: document_opened,
}

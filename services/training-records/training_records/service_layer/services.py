"""Use cases of the register. Each function is one unit of work."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from chassis.auth import Principal
from chassis.uow import IntegrityError
from training_records.domain.model import (
    Apprentice,
    Company,
    Contract,
    ContractState,
    FieldPath,
    Occupation,
    RuleViolation,
    check_new_contract,
    format_contract_number,
)
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

log = logging.getLogger(__name__)

CONTRACT_REGISTERED = "training.contract.registered"
# Who may enter contracts in the register (DESIGN §4: Sachbearbeitung and administrator).
REGISTRAR_ROLES = ("chamber_clerk", "chamber_admin")
# A concurrent registration can win a race for a new company's row; we then retry
# and find it. More conflicts than this mean something else is wrong.
MAX_ATTEMPTS = 3


class NotAllowed(Exception):
    """The caller's roles do not permit this use case."""


@dataclass(frozen=True)
class CompanyDetails:
    """The company as the clerk gives it; only the number is needed for a known company."""

    company_number: str
    name: str | None = None
    email: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None

    def master_data(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "email": self.email,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
        }


@dataclass(frozen=True)
class ApprenticeDetails:
    first_name: str
    last_name: str
    birth_date: date
    email: str


@dataclass(frozen=True)
class RegisterContract:
    company: CompanyDetails
    apprentice: ApprenticeDetails
    occupation_code: str
    start_date: date
    end_date: date
    registered_on: date | None = None  # defaults to today; earlier for historic entries


@dataclass(frozen=True)
class RegisteredContract:
    contract_id: uuid.UUID
    contract_number: str


def register_contract(
    command: RegisterContract, uow: TrainingRecordsUnitOfWork, *, actor: Principal, today: date
) -> RegisteredContract:
    """Enter a contract in the register and announce it, atomically.

    A company not yet in the register is created from the given data (name and
    e-mail then required). For a known company the register's master data
    stays authoritative: details given that differ from it are refused rather
    than silently overwritten or ignored.
    """
    if not actor.has_role(*REGISTRAR_ROLES):
        raise NotAllowed("Only chamber staff may register training contracts.")
    registered_on = command.registered_on or today
    errors: dict[FieldPath, str] = {}
    try:
        check_new_contract(
            start_date=command.start_date,
            end_date=command.end_date,
            registered_on=registered_on,
            birth_date=command.apprentice.birth_date,
            today=today,
        )
    except RuleViolation as violation:
        errors.update(violation.errors)

    attempt = 1
    while True:
        try:
            registered = _register(command, registered_on, errors, uow, actor)
        except IntegrityError:
            if attempt >= MAX_ATTEMPTS:
                raise
            attempt += 1
            continue
        log.info("contract %s registered by %s", registered.contract_number, actor.subject)
        return registered


def _register(
    command: RegisterContract,
    registered_on: date,
    rule_errors: dict[FieldPath, str],
    uow: TrainingRecordsUnitOfWork,
    actor: Principal,
) -> RegisteredContract:
    errors = dict(rule_errors)
    with uow:
        occupation = uow.occupations.get(command.occupation_code)
        if occupation is None:
            errors[("occupation_code",)] = "Unknown occupation code."
        company = _known_or_new_company(command.company, uow, errors)
        if errors:
            raise RuleViolation(errors)
        assert occupation is not None and company is not None

        apprentice = Apprentice(
            id=uuid.uuid4(),
            first_name=command.apprentice.first_name,
            last_name=command.apprentice.last_name,
            birth_date=command.apprentice.birth_date,
            email=command.apprentice.email,
        )
        uow.apprentices.add(apprentice)
        sequence = uow.contract_numbers.next_value(registered_on.year)
        contract = Contract(
            id=uuid.uuid4(),
            contract_number=format_contract_number(registered_on.year, sequence),
            company_number=company.company_number,
            apprentice_id=apprentice.id,
            occupation_code=occupation.code,
            start_date=command.start_date,
            end_date=command.end_date,
            registered_on=registered_on,
            state=ContractState.REGISTERED,
            registered_by=actor.subject,
        )
        uow.contracts.add(contract)
        uow.emit(
            CONTRACT_REGISTERED,
            str(contract.id),
            contract_registered_payload(contract, company, apprentice, occupation),
        )
        uow.commit()
    return RegisteredContract(contract.id, contract.contract_number)


def _known_or_new_company(
    details: CompanyDetails, uow: TrainingRecordsUnitOfWork, errors: dict[FieldPath, str]
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


def contract_registered_payload(
    contract: Contract, company: Company, apprentice: Apprentice, occupation: Occupation
) -> dict[str, Any]:
    """The ``training.contract.registered`` v1 payload (shared/chassis/contracts/training.py)."""
    return {
        "contract_id": str(contract.id),
        "contract_number": contract.contract_number,
        "registered_on": contract.registered_on.isoformat(),
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "occupation": {"code": occupation.code, "title": occupation.title},
        "company": {
            "company_number": company.company_number,
            "name": company.name,
            "email": company.email,
        },
        "apprentice": {
            "first_name": apprentice.first_name,
            "last_name": apprentice.last_name,
            "birth_date": apprentice.birth_date.isoformat(),
            "email": apprentice.email,
        },
    }

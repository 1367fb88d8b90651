"""The questions training-records answers (queries), and the shapes of the answers.

Queries are frozen dataclasses dispatched by the message bus. A ``ContractView``
is a contract as the register shows it: with its company, occupation, apprentice,
the apprentice's account state (from identity) and when its
Eintragungsbestätigung was first opened (from documents).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from chassis.messages import Query
from chassis.pagination import PageRequest
from chassis.principal import Principal
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    Company,
    Contract,
    ContractState,
    Occupation,
)

# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFilters:
    """Narrow a contract list; filters never widen what the caller may see."""

    company_number: str | None = None
    occupation_code: str | None = None
    apprentice_number: str | None = None


@dataclass(frozen=True)
class ListContracts(Query):
    """The contracts the caller may see, newest registration first."""

    principal: Principal
    page: PageRequest
    filters: ContractFilters = ContractFilters()


@dataclass(frozen=True)
class GetContract(Query):
    """One contract; unknown and invisible contracts are the same NotFound."""

    principal: Principal
    contract_id: uuid.UUID


@dataclass(frozen=True)
class ListCompanies(Query):
    """The companies the caller may see, by name."""

    principal: Principal
    page: PageRequest


@dataclass(frozen=True)
class ListOccupations(Query):
    """The recognised occupations (open to every signed-in user), by title."""

    page: PageRequest


# -- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyRef:
    company_number: str
    name: str


@dataclass(frozen=True)
class OccupationRef:
    code: str
    title: str


@dataclass(frozen=True)
class ApprenticeView:
    first_name: str
    last_name: str
    birth_date: date
    email: str
    apprentice_number: str | None
    account_state: AccountState
    account_activated_at: datetime | None


@dataclass(frozen=True)
class ConfirmationReceipts:
    """When the Eintragungsbestätigung was first opened, per recipient (None: not yet)."""

    company: datetime | None
    apprentice: datetime | None


@dataclass(frozen=True)
class ContractView:
    id: uuid.UUID
    contract_number: str
    state: ContractState
    registered_on: date
    start_date: date
    end_date: date
    occupation: OccupationRef
    company: CompanyRef
    apprentice: ApprenticeView
    confirmation_opened_at: ConfirmationReceipts

    @classmethod
    def of(
        cls,
        contract: Contract,
        company: Company,
        occupation: Occupation,
        apprentice: Apprentice,
        account: ApprenticeAccount | None,
    ) -> ContractView:
        return cls(
            id=contract.id,
            contract_number=contract.contract_number,
            state=contract.state,
            registered_on=contract.registered_on,
            start_date=contract.start_date,
            end_date=contract.end_date,
            occupation=OccupationRef(occupation.code, occupation.title),
            company=CompanyRef(company.company_number, company.name),
            apprentice=ApprenticeView(
                first_name=apprentice.first_name,
                last_name=apprentice.last_name,
                birth_date=apprentice.birth_date,
                email=apprentice.email,
                apprentice_number=apprentice.apprentice_number,
                account_state=account.state if account is not None else AccountState.NONE,
                account_activated_at=account.activated_at if account is not None else None,
            ),
            confirmation_opened_at=ConfirmationReceipts(
                company=contract.confirmation_opened_by_company_at,
                apprentice=contract.confirmation_opened_by_apprentice_at,
            ),
        )

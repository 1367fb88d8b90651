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
    AtlasEntry,
    Company,
    Contract,
    ContractState,
    ImportJob,
    Occupation,
    TerminationReason,
    Trainer,
)

# -- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFilters:
    """Narrow a contract list; filters never widen what the caller may see."""

    company_number: str | None = None
    occupation_code: str | None = None
    apprentice_number: str | None = None
    name: str | None = None  # the apprentice's last name (or "first last"), from its beginning
    state: ContractState | None = None
    start_from: date | None = None
    start_until: date | None = None
    registered_from: date | None = None
    registered_until: date | None = None


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
    include_retired: bool = False


@dataclass(frozen=True)
class GetCompany(Query):
    principal: Principal
    company_number: str


@dataclass(frozen=True)
class ListBranches(Query):
    """The branches of a head office the caller may see, by name."""

    principal: Principal
    head_office_number: str
    page: PageRequest


@dataclass(frozen=True)
class ListTrainers(Query):
    """A company's active trainers, by name, each with the running contracts assigned to them."""

    principal: Principal
    company_number: str
    page: PageRequest


@dataclass(frozen=True)
class GetTrainer(Query):
    principal: Principal
    trainer_id: uuid.UUID


@dataclass(frozen=True)
class GetContractHistory(Query):
    """The steps of a contract's life, oldest first."""

    principal: Principal
    contract_id: uuid.UUID


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
class TrainerRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ContractTermsView:
    specialism: str | None
    probation_months: int | None
    part_time: bool
    shortened_by_months: int


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
    terms: ContractTermsView
    trainer: TrainerRef | None
    interrupted_since: date | None
    ended_on: date | None
    termination_reason: TerminationReason | None
    # The head office of the contract's company, if it is a branch (for head-office reach).
    head_office_number: str | None

    @classmethod
    def of(
        cls,
        contract: Contract,
        company: Company,
        occupation: Occupation,
        apprentice: Apprentice,
        account: ApprenticeAccount | None,
        trainer: Trainer | None = None,
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
            terms=ContractTermsView(
                specialism=contract.specialism,
                probation_months=contract.probation_months,
                part_time=contract.part_time,
                shortened_by_months=contract.shortened_by_months,
            ),
            trainer=TrainerRef(trainer.id, trainer.name) if trainer is not None else None,
            interrupted_since=contract.interrupted_since,
            ended_on=contract.ended_on,
            termination_reason=contract.termination_reason,
            head_office_number=company.head_office_number,
        )


@dataclass(frozen=True)
class AssignedContract:
    id: uuid.UUID
    contract_number: str
    apprentice_name: str


@dataclass(frozen=True)
class TrainerView:
    id: uuid.UUID
    company_number: str
    first_name: str
    last_name: str
    email: str
    qualified: bool
    contracts: tuple[AssignedContract, ...]
    # The trainer's portal account (Account erstellen): none, invited or active.
    account_state: AccountState = AccountState.NONE


# -- the Ausbildungsatlas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchAtlas(Query):
    """The public search (no login): consenting companies training in an occupation, near a place."""

    occupation_code: str
    place: str | None  # a postcode (or its beginning) or a city
    page: PageRequest


@dataclass(frozen=True)
class GetAtlasProfile(Query):
    """A company's atlas entries and consent, for its maintainers."""

    principal: Principal
    company_number: str


@dataclass(frozen=True)
class AtlasHit:
    entry: AtlasEntry
    company_name: str
    occupation_title: str


@dataclass(frozen=True)
class AtlasProfile:
    company_number: str
    consent: bool
    entries: tuple[AtlasEntry, ...]


# -- the chamber's data import ----------------------------------------------------------------------


@dataclass(frozen=True)
class ListImports(Query):
    principal: Principal
    page: PageRequest


@dataclass(frozen=True)
class GetImport(Query):
    principal: Principal
    job_id: uuid.UUID


@dataclass(frozen=True)
class ListImportErrors(Query):
    principal: Principal
    job_id: uuid.UUID
    page: PageRequest


@dataclass(frozen=True)
class ImportProgress:
    """An import as the UI and the API show it: rows done of the total, errors, time left."""

    job: ImportJob
    seconds_left: float | None

    @property
    def percent(self) -> int:
        if self.job.total_rows == 0:
            return 100 if self.job.finished else 0
        return min(100, self.job.done_rows * 100 // self.job.total_rows)

"""What callers ask training-records to change (commands): frozen dataclasses for the message bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from chassis.messages import Command
from chassis.principal import Principal
from training_records.domain.import_rows import ImportRecord, RowError
from training_records.domain.model import ChangeKind, TerminationReason


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
class ContractTerms:
    """What the contract says beyond its dates (all optional for entries made before they were recorded)."""

    probation_months: int | None = None
    part_time: bool = False
    shortened_by_months: int = 0
    specialism: str | None = None
    trainer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RegisterContract(Command):
    """Enter a training contract in the chamber's register ("eintragen") and announce it."""

    principal: Principal
    company: CompanyDetails
    apprentice: ApprenticeDetails
    occupation_code: str
    start_date: date
    end_date: date
    registered_on: date | None = None  # defaults to today; earlier for historic entries
    terms: ContractTerms = ContractTerms()


# -- companies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCompany(Command):
    """Enter a company in the register (clerk); it gets its access data from identity."""

    principal: Principal
    company: CompanyDetails
    head_office_number: str | None = None


@dataclass(frozen=True)
class ChangeCompany(Command):
    """Change a company's master data (clerk); fields left None stay as they are."""

    principal: Principal
    company: CompanyDetails


@dataclass(frozen=True)
class AssignBranch(Command):
    """Make a company a branch (Niederlassung) of a head office (Zentrale)."""

    principal: Principal
    branch_number: str
    head_office_number: str


@dataclass(frozen=True)
class RemoveBranch(Command):
    principal: Principal
    branch_number: str


@dataclass(frozen=True)
class SetBranchReach(Command):
    """Switch a head office's reach over its branches on or off (chamber)."""

    principal: Principal
    company_number: str
    enabled: bool


# -- occupations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddOccupation(Command):
    """Add a recognised occupation to the catalogue (chamber administrator)."""

    principal: Principal
    code: str
    title: str
    specialisms: tuple[str, ...] = ()
    duration_months: int | None = None
    split_final_exam: bool | None = None


@dataclass(frozen=True)
class RetireOccupation(Command):
    principal: Principal
    code: str


@dataclass(frozen=True)
class LoadOccupationCatalogue(Command):
    """Add the shipped catalogue's entries that the register lacks (never changes or revives others)."""

    entries: tuple[OccupationEntry, ...]


@dataclass(frozen=True)
class OccupationEntry:
    code: str
    title: str
    specialisms: tuple[str, ...] = ()
    duration_months: int | None = None
    split_final_exam: bool | None = None


# -- trainers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainerDetails:
    first_name: str
    last_name: str
    email: str
    qualified: bool


@dataclass(frozen=True)
class AddTrainer(Command):
    principal: Principal
    company_number: str
    trainer: TrainerDetails


@dataclass(frozen=True)
class ChangeTrainerDetails(Command):
    principal: Principal
    trainer_id: uuid.UUID
    trainer: TrainerDetails


@dataclass(frozen=True)
class RemoveTrainer(Command):
    principal: Principal
    trainer_id: uuid.UUID


# -- the contract's life ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeContract(Command):
    """One step in a registered contract's life (see ``ChangeKind``); the rule is the contract's.

    ``effective_on`` is the day it takes effect (interruption, resumption, completion,
    termination); ``end_date`` the new end (extension, shortening, optionally resumption);
    ``trainer_id`` the new trainer (None: none); ``reason`` why it ended early.
    """

    principal: Principal
    contract_id: uuid.UUID
    kind: ChangeKind
    effective_on: date | None = None
    end_date: date | None = None
    trainer_id: uuid.UUID | None = None
    reason: TerminationReason | None = None
    note: str | None = None


# -- the Ausbildungsatlas --------------------------------------------------------------------------


@dataclass(frozen=True)
class AtlasOffer:
    places: int
    postal_code: str
    city: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class SaveAtlasEntry(Command):
    """Publish (or update) a company's offer in one occupation; shown only with its consent."""

    principal: Principal
    company_number: str
    occupation_code: str
    offer: AtlasOffer


@dataclass(frozen=True)
class RemoveAtlasEntry(Command):
    principal: Principal
    company_number: str
    occupation_code: str


@dataclass(frozen=True)
class SetAtlasConsent(Command):
    """Consent to publication in the Ausbildungsatlas, or withdraw it (hides every entry at once)."""

    principal: Principal
    company_number: str
    consent: bool


# -- the chamber's data import ----------------------------------------------------------------------


@dataclass(frozen=True)
class UploadImport(Command):
    """Queue an uploaded export for import; the worker takes it from there."""

    principal: Principal
    filename: str
    data: bytes


@dataclass(frozen=True)
class ClaimImport(Command):
    """The import worker takes the oldest unfinished job that no other worker holds."""

    worker: str


@dataclass(frozen=True)
class BeginImport(Command):
    """The file is readable: record how many rows it has."""

    job_id: uuid.UUID
    worker: str
    total_rows: int


@dataclass(frozen=True)
class FailImport(Command):
    """The file as a whole cannot be imported (malformed, empty, too large, columns missing)."""

    job_id: uuid.UUID
    worker: str
    code: str
    detail: str
    line: int | None = None


@dataclass(frozen=True)
class ApplyImportChunk(Command):
    """Apply rows ``start_index``… of a job in one transaction, together with the new progress.

    ``rows`` holds each row's line and either its parsed record or its errors. A chunk whose
    ``start_index`` is not the job's ``next_index`` was applied already (a restarted worker) and
    changes nothing.
    """

    job_id: uuid.UUID
    worker: str
    start_index: int
    rows: tuple[ImportRowOutcome, ...]


@dataclass(frozen=True)
class ImportRowOutcome:
    line: int
    record: ImportRecord | None
    errors: tuple[RowError, ...] = ()


@dataclass(frozen=True)
class FinishImport(Command):
    job_id: uuid.UUID
    worker: str

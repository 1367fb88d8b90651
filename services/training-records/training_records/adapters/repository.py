"""Repositories of the register over one SQLAlchemy session, and its keyset-paged lists.

Lists filter by the caller's visibility in SQL, so no row the caller may not see
ever leaves the database, and page by keyset: each ``*_ORDER`` ends in a unique
column and has an index (``adapters.orm``, migration 0002).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository
from training_records.adapters import orm
from training_records.domain.access import CompanyVisibility, ContractVisibility
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    AtlasEntry,
    Company,
    Contract,
    ContractChange,
    ContractState,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Occupation,
    Trainer,
    TrainerAccount,
)
from training_records.domain.queries import AssignedContract, AtlasHit, ContractFilters, ContractView

# Newest registration first; the register number (unique) breaks ties.
CONTRACT_ORDER = (SortKey("registered_on", descending=True), SortKey("contract_number", descending=True))
# By name; the Identnummer (unique) breaks ties.
COMPANY_ORDER = (SortKey("name"), SortKey("company_number"))
# By title; the code (unique) breaks ties.
OCCUPATION_ORDER = (SortKey("title"), SortKey("code"))
# A company's trainers by name; the id breaks ties.
TRAINER_ORDER = (SortKey("last_name"), SortKey("first_name"), SortKey("id"))
# A contract's history, oldest first.
CHANGE_ORDER = (SortKey("recorded_at"), SortKey("id"))
# The public atlas near a postcode; the Identnummer breaks ties.
ATLAS_ORDER = (SortKey("postal_code"), SortKey("company_number"))
# Imports, newest first.
IMPORT_ORDER = (SortKey("uploaded_at", descending=True), SortKey("id", descending=True))
# An import's report, by line.
IMPORT_ERROR_ORDER = (SortKey("line"), SortKey("field"))

_contracts = orm.contracts
_apprentices = orm.apprentices


class SqlOccupationRepository(SqlAlchemyRepository[Occupation]):
    model = Occupation

    def page_all(self, request: PageRequest, *, include_retired: bool = False) -> Page[Occupation]:
        stmt = sa.select(Occupation)
        if not include_retired:
            stmt = stmt.where(orm.occupations.c.retired_on.is_(None))
        return self.page(stmt, OCCUPATION_ORDER, request)

    def all_by_code(self) -> dict[str, Occupation]:
        return {occupation.code: occupation for occupation in self.session.scalars(sa.select(Occupation))}


class SqlCompanyRepository(SqlAlchemyRepository[Company]):
    model = Company

    def page_visible(self, visibility: CompanyVisibility, request: PageRequest) -> Page[Company]:
        """One page of the companies ``visibility`` shows, by name."""
        if visibility.nothing:
            return Page()
        stmt = sa.select(Company)
        if not visibility.everything:
            stmt = stmt.where(orm.companies.c.company_number.in_(sorted(visibility.company_numbers)))
        return self.page(stmt, COMPANY_ORDER, request)

    def page_branches(self, head_office_number: str, request: PageRequest) -> Page[Company]:
        stmt = sa.select(Company).where(orm.companies.c.head_office_number == head_office_number)
        return self.page(stmt, COMPANY_ORDER, request)

    def reach_of(self, company_numbers: frozenset[str]) -> dict[str, tuple[str, ...]]:
        """The branches of those of ``company_numbers`` that are head offices with reach."""
        if not company_numbers:
            return {}
        heads = orm.companies.alias("head")
        rows = self.session.execute(
            sa.select(orm.companies.c.head_office_number, orm.companies.c.company_number)
            .join(heads, heads.c.company_number == orm.companies.c.head_office_number)
            .where(heads.c.company_number.in_(sorted(company_numbers)), heads.c.branch_reach.is_(True))
        ).all()
        reach: dict[str, list[str]] = {}
        for head, branch in rows:
            reach.setdefault(head, []).append(branch)
        return {head: tuple(branches) for head, branches in reach.items()}

    def get_many(self, company_numbers: Sequence[str]) -> dict[str, Company]:
        if not company_numbers:
            return {}
        found = self.session.scalars(
            sa.select(Company).where(orm.companies.c.company_number.in_(sorted(set(company_numbers))))
        )
        return {company.company_number: company for company in found}


class SqlTrainerRepository(SqlAlchemyRepository[Trainer]):
    model = Trainer

    def page_of_company(self, company_number: str, request: PageRequest) -> Page[Trainer]:
        stmt = sa.select(Trainer).where(
            orm.trainers.c.company_number == company_number, orm.trainers.c.removed_on.is_(None)
        )
        return self.page(stmt, TRAINER_ORDER, request)

    def active_by_email(self, company_number: str, email: str) -> Trainer | None:
        return self.session.scalars(
            sa.select(Trainer).where(
                orm.trainers.c.company_number == company_number,
                sa.func.lower(orm.trainers.c.email) == email.casefold(),
                orm.trainers.c.removed_on.is_(None),
            )
        ).first()

    def active_of_companies(self, company_numbers: Sequence[str]) -> dict[tuple[str, str], Trainer]:
        """Active trainers of these companies, by (company, e-mail casefolded)."""
        if not company_numbers:
            return {}
        found = self.session.scalars(
            sa.select(Trainer).where(
                orm.trainers.c.company_number.in_(list(company_numbers)), orm.trainers.c.removed_on.is_(None)
            )
        )
        return {(t.company_number, t.email.casefold()): t for t in found}

    def assignments(self, trainer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AssignedContract]]:
        """The running contracts assigned to each trainer, by register number."""
        if not trainer_ids:
            return {}
        rows = self.session.execute(
            sa.select(
                _contracts.c.trainer_id,
                _contracts.c.id,
                _contracts.c.contract_number,
                _apprentices.c.first_name,
                _apprentices.c.last_name,
            )
            .join(_apprentices, _apprentices.c.id == _contracts.c.apprentice_id)
            .where(
                _contracts.c.trainer_id.in_(list(trainer_ids)),
                _contracts.c.state.in_([s.value for s in ContractState if s.is_running]),
            )
            .order_by(_contracts.c.contract_number)
        ).all()
        found: dict[uuid.UUID, list[AssignedContract]] = {}
        for trainer_id, contract_id, number, first_name, last_name in rows:
            found.setdefault(trainer_id, []).append(
                AssignedContract(contract_id, number, f"{first_name} {last_name}")
            )
        return found

    def running_contract_count(self, trainer_id: uuid.UUID) -> int:
        count: int = self.session.execute(
            sa.select(sa.func.count())
            .select_from(_contracts)
            .where(
                _contracts.c.trainer_id == trainer_id,
                _contracts.c.state.in_([s.value for s in ContractState if s.is_running]),
            )
        ).scalar_one()
        return count


class SqlContractChangeRepository(SqlAlchemyRepository[ContractChange]):
    model = ContractChange

    def history(self, contract_id: uuid.UUID, request: PageRequest) -> Page[ContractChange]:
        stmt = sa.select(ContractChange).where(orm.contract_changes.c.contract_id == contract_id)
        return self.page(stmt, CHANGE_ORDER, request)


class SqlAtlasRepository(SqlAlchemyRepository[AtlasEntry]):
    model = AtlasEntry

    def of_company(self, company_number: str) -> list[AtlasEntry]:
        return list(
            self.session.scalars(
                sa.select(AtlasEntry)
                .where(orm.atlas_entries.c.company_number == company_number)
                .order_by(orm.atlas_entries.c.occupation_code)
            )
        )

    def search(self, occupation_code: str, place: str | None, request: PageRequest) -> Page[AtlasHit]:
        """Entries of consenting companies for one occupation, near a postcode (prefix) or in a city."""
        entries = orm.atlas_entries
        conditions = [
            entries.c.occupation_code == occupation_code,
            orm.companies.c.atlas_consent.is_(True),
            entries.c.places > 0,
        ]
        if place:
            if place.isdigit():
                conditions.append(entries.c.postal_code.startswith(place, autoescape=True))
            else:
                conditions.append(sa.func.lower(entries.c.city) == place.casefold())
        stmt = (
            sa.select(AtlasEntry)
            .join(orm.companies, orm.companies.c.company_number == entries.c.company_number)
            .where(*conditions)
        )
        page = self.page(stmt, ATLAS_ORDER, request)
        companies = self.session.execute(
            sa.select(orm.companies.c.company_number, orm.companies.c.name).where(
                orm.companies.c.company_number.in_([entry.company_number for entry in page.items])
            )
        ).all()
        names = dict(companies)
        occupation = self.session.get(Occupation, occupation_code)
        title = occupation.title if occupation is not None else occupation_code
        return Page(
            items=tuple(AtlasHit(entry, names[entry.company_number], title) for entry in page.items),
            next_cursor=page.next_cursor,
        )


class SqlImportErrorRepository(SqlAlchemyRepository[ImportRowError]):
    model = ImportRowError

    def add_all(self, errors: Sequence[ImportRowError]) -> None:
        if errors:
            self.session.execute(
                sa.insert(orm.import_row_errors),
                [
                    {
                        "job_id": e.job_id,
                        "line": e.line,
                        "field": e.field,
                        "code": e.code,
                        "message": e.message,
                    }
                    for e in errors
                ],
            )

    def page_of_job(self, job_id: uuid.UUID, request: PageRequest) -> Page[ImportRowError]:
        stmt = sa.select(ImportRowError).where(orm.import_row_errors.c.job_id == job_id)
        return self.page(stmt, IMPORT_ERROR_ORDER, request)


class SqlImportJobRepository(SqlAlchemyRepository[ImportJob]):
    model = ImportJob

    def page_all(self, request: PageRequest) -> Page[ImportJob]:
        return self.page(sa.select(ImportJob), IMPORT_ORDER, request)

    def claim_next(self, worker: str, now: datetime) -> ImportJob | None:
        """The oldest unfinished job no other worker holds a running lease on, row-locked
        (SKIP LOCKED: a concurrent claim takes the next one)."""
        jobs = orm.import_jobs
        stmt = (
            sa.select(ImportJob)
            .where(
                jobs.c.status.in_([ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]),
                sa.or_(jobs.c.worker.is_(None), jobs.c.worker == worker, jobs.c.lease_until < now),
            )
            .order_by(jobs.c.uploaded_at)
            .limit(1)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).first()

    def lock(self, job_id: uuid.UUID) -> ImportJob | None:
        stmt = sa.select(ImportJob).where(orm.import_jobs.c.id == job_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def add_with_file(self, job: ImportJob, data: bytes) -> None:
        """The job and its uploaded bytes (kept apart, so progress polls never load them)."""
        self.session.add(job)
        self.session.flush()
        self.session.execute(sa.insert(orm.import_files).values(job_id=job.id, data=data))

    def drop_file(self, job_id: uuid.UUID) -> None:
        self.session.execute(sa.delete(orm.import_files).where(orm.import_files.c.job_id == job_id))

    def file(self, job_id: uuid.UUID) -> bytes:
        data: bytes = self.session.execute(
            sa.select(orm.import_files.c.data).where(orm.import_files.c.job_id == job_id)
        ).scalar_one()
        return data


class SqlApprenticeRepository(SqlAlchemyRepository[Apprentice]):
    model = Apprentice


class SqlAccountRepository(SqlAlchemyRepository[ApprenticeAccount]):
    model = ApprenticeAccount


class SqlTrainerAccountRepository(SqlAlchemyRepository[TrainerAccount]):
    model = TrainerAccount

    def of_account(self, account_id: uuid.UUID) -> list[TrainerAccount]:
        return list(
            self.session.scalars(
                sa.select(TrainerAccount).where(orm.trainer_accounts.c.account_id == account_id)
            )
        )

    def states(self, trainer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, AccountState]:
        if not trainer_ids:
            return {}
        table = orm.trainer_accounts
        rows = self.session.execute(
            sa.select(table.c.trainer_id, table.c.state).where(table.c.trainer_id.in_(list(trainer_ids)))
        )
        return {row.trainer_id: row.state for row in rows}


class SqlContractRepository(SqlAlchemyRepository[Contract]):
    model = Contract

    def add(self, contract: Contract) -> None:
        self.add_all([contract])

    def add_all(self, contracts: Sequence[Contract]) -> None:
        # The mappers declare no relationships, so SQLAlchemy cannot order inserts by foreign
        # key: the pending companies, trainers and apprentices are written first, then the
        # contracts (so that their history, added next, finds them).
        self.session.flush()
        self.session.add_all(contracts)
        self.session.flush()

    def view(self, contract_id: uuid.UUID) -> ContractView | None:
        """The contract as the register shows it, whoever may see it (access is the caller's)."""
        views = self._views([contract_id])
        return views[0] if views else None

    def page_views(
        self, visibility: ContractVisibility, filters: ContractFilters, request: PageRequest
    ) -> Page[ContractView]:
        """One page of the contracts ``visibility`` shows, narrowed by ``filters``, newest first."""
        if visibility.nothing:
            return Page()
        conditions = [_visible(visibility)]
        if filters.company_number:
            conditions.append(_contracts.c.company_number == filters.company_number)
        if filters.occupation_code:
            conditions.append(_contracts.c.occupation_code == filters.occupation_code)
        if filters.apprentice_number:
            conditions.append(_apprentices.c.apprentice_number == filters.apprentice_number)
        if filters.name:
            conditions.append(_name_matches(filters.name))
        if filters.state:
            conditions.append(_contracts.c.state == filters.state.value)
        if filters.start_from:
            conditions.append(_contracts.c.start_date >= filters.start_from)
        if filters.start_until:
            conditions.append(_contracts.c.start_date <= filters.start_until)
        if filters.registered_from:
            conditions.append(_contracts.c.registered_on >= filters.registered_from)
        if filters.registered_until:
            conditions.append(_contracts.c.registered_on <= filters.registered_until)
        stmt = (
            sa.select(Contract)
            .join(_apprentices, _apprentices.c.id == _contracts.c.apprentice_id)
            .where(*conditions)
        )
        page = self.page(stmt, CONTRACT_ORDER, request)
        by_id = {view.id: view for view in self._views([contract.id for contract in page.items])}
        return Page(items=tuple(by_id[contract.id] for contract in page.items), next_cursor=page.next_cursor)

    def _views(self, contract_ids: Sequence[uuid.UUID]) -> list[ContractView]:
        """The contracts with their company, occupation, apprentice and account, in one query."""
        if not contract_ids:
            return []
        rows = self.session.execute(
            sa.select(Contract, Company, Occupation, Apprentice, ApprenticeAccount, Trainer)
            .select_from(_contracts)
            .join(orm.companies, orm.companies.c.company_number == _contracts.c.company_number)
            .join(orm.occupations, orm.occupations.c.code == _contracts.c.occupation_code)
            .join(_apprentices, _apprentices.c.id == _contracts.c.apprentice_id)
            .outerjoin(
                orm.apprentice_accounts,
                orm.apprentice_accounts.c.apprentice_number == _apprentices.c.apprentice_number,
            )
            .outerjoin(orm.trainers, orm.trainers.c.id == _contracts.c.trainer_id)
            .where(_contracts.c.id.in_(contract_ids))
        ).all()
        return [ContractView.of(*row) for row in rows]

    def by_source_keys(self, keys: Sequence[str]) -> dict[str, Contract]:
        if not keys:
            return {}
        found = self.session.scalars(sa.select(Contract).where(_contracts.c.source_key.in_(list(keys))))
        return {contract.source_key: contract for contract in found if contract.source_key is not None}


def _name_matches(name: str) -> sa.ColumnElement[bool]:
    """The apprentice's last name, or "first last", begins with ``name`` (case-insensitive)."""
    pattern = " ".join(name.split()).casefold()
    full_name = sa.func.lower(_apprentices.c.first_name + " " + _apprentices.c.last_name)
    return sa.or_(
        sa.func.lower(_apprentices.c.last_name).startswith(pattern, autoescape=True),
        full_name.startswith(pattern, autoescape=True),
    )


def _visible(visibility: ContractVisibility) -> sa.ColumnElement[bool]:
    """``ContractVisibility.allows`` in SQL (on contracts joined with apprentices)."""
    if visibility.everything:
        return sa.true()
    conditions: list[sa.ColumnElement[bool]] = []
    if visibility.company_numbers:
        conditions.append(_contracts.c.company_number.in_(sorted(visibility.company_numbers)))
    if visibility.apprentice_number:
        conditions.append(_apprentices.c.apprentice_number == visibility.apprentice_number)
    return sa.or_(*conditions) if conditions else sa.false()


class SqlContractNumberSequence:
    """Per-year counters of register numbers; the row lock taken by the UPDATE lasts until commit.

    Hand-written SQL on purpose: ``UPDATE … RETURNING`` on the year's row serialises
    concurrent registrations, so numbers never repeat and races leave no gaps.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_ignoring_conflict(self, year: int, value: int) -> None:
        dialect = self.session.get_bind().dialect.name
        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(orm.contract_number_counters)
            .values(year=year, last_value=value)
            .on_conflict_do_nothing(index_elements=["year"])
        )

    def next_value(self, year: int) -> int:
        return self.next_values(year, 1)[0]

    def next_values(self, year: int, count: int) -> range:
        """``count`` consecutive numbers for ``year`` in one statement (the import's chunks)."""
        self._insert_ignoring_conflict(year, 0)
        table = orm.contract_number_counters
        last: int = self.session.execute(
            sa.update(table)
            .where(table.c.year == year)
            .values(last_value=table.c.last_value + count)
            .returning(table.c.last_value)
        ).scalar_one()
        return range(last - count + 1, last + 1)

    def ensure_at_least(self, year: int, value: int) -> None:
        """Make sure numbers handed out later for ``year`` come after ``value`` (seeding, imports)."""
        self._insert_ignoring_conflict(year, value)
        table = orm.contract_number_counters
        self.session.execute(
            sa.update(table).where(table.c.year == year, table.c.last_value < value).values(last_value=value)
        )

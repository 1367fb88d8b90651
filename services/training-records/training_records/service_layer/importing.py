"""The chamber's data import (Datenübermittlung): the use cases of a job, and the worker that runs it.

A clerk's upload becomes a queued job (``upload_import``). The import worker (declared by the
runtime, started by both run modes) claims it under a lease, reads the file once, parses every
row, and applies the rows in chunks: each chunk is one transaction that writes the rows' register
changes, their events (to the outbox, as one batch) and the job's new progress together. A worker
that dies mid-file leaves the job at its last committed chunk; the next worker to claim it (after
the lease) skips what is done, so nothing is applied twice. Re-importing the same data changes
nothing (each contract remembers the fingerprint of the row last applied); newer data updates.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chassis.contracts.training import (
    BranchAssigned,
    CompanyChanged,
    CompanyRegistered,
    TrainerAdded,
    TrainerChanged,
)
from chassis.domain import FieldPath, NotFound, RuleViolation
from chassis.messagebus import MessageBus
from chassis.pagination import MAX_LIMIT, Page, PageRequest
from training_records.adapters.import_file import ImportFileError, read_table
from training_records.domain import access
from training_records.domain.commands import (
    ApplyImportChunk,
    BeginImport,
    ClaimImport,
    FailImport,
    FinishImport,
    ImportRowOutcome,
    UploadImport,
)
from training_records.domain.import_rows import (
    ImportRecord,
    RowError,
    find_duplicates,
    fingerprint,
    parse_row,
)
from training_records.domain.model import (
    Apprentice,
    ChangeKind,
    Company,
    Contract,
    ContractState,
    ImportJob,
    ImportRowError,
    Occupation,
    Trainer,
    check_duration,
    check_new_contract,
    check_terms,
    format_contract_number,
)
from training_records.domain.queries import GetImport, ImportProgress, ListImportErrors, ListImports
from training_records.service_layer.handlers import (
    company_data,
    contract_registered,
    record_change,
    trainer_payload,
)
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # a register of 100,000 contracts as CSV is about 35 MB
MAX_ROWS = 200_000
CHUNK_ROWS = 500
LEASE = timedelta(minutes=2)

# Where a rule of the register fails, the column of the file the clerk must correct, and the
# German message for the report (the domain's own messages are English, for the API).
RULE_COLUMNS: dict[FieldPath, tuple[str, str]] = {
    ("end_date",): (
        "ende",
        "Das Ausbildungsende ist nicht plausibel: vor dem Beginn, oder zu lang oder zu kurz für die Regeldauer des Berufs (Verkürzung und Teilzeit berücksichtigt).",
    ),
    ("registered_on",): ("eingetragen_am", "Das Eintragungsdatum liegt in der Zukunft."),
    ("apprentice", "birth_date"): (
        "azubi_geburtsdatum",
        "Das Geburtsdatum ist nicht plausibel (bei Ausbildungsbeginn mindestens 14 und höchstens 70 Jahre).",
    ),
    ("probation_months",): ("probezeit_monate", "Die Probezeit beträgt 1 bis 4 Monate (BBiG § 20)."),
    ("shortened_by_months",): ("verkuerzung_monate", "Die Verkürzung beträgt 0 bis 12 Monate."),
    ("specialism",): (
        "fachrichtung",
        "Die Fachrichtung gehört nicht zu diesem Ausbildungsberuf, oder der Beruf verlangt eine.",
    ),
}


def _rule_errors(job_id: uuid.UUID, line: int, violation: RuleViolation) -> list[ImportRowError]:
    errors = []
    for path, message in violation.errors.items():
        column, german = RULE_COLUMNS.get(path, (".".join(path), message))
        errors.append(ImportRowError(job_id, line, column, "rule_violated", german))
    return errors


# -- use cases --------------------------------------------------------------------------------------


def upload_import(
    cmd: UploadImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]
) -> ImportJob:
    """Queue an upload. Only what needs no reading is checked here; the worker reads the file."""
    access.check_may_import(cmd.principal)
    name = cmd.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].strip()[:255]
    if not name.lower().endswith((".csv", ".xlsx")):
        raise RuleViolation({"file": "Only .csv and .xlsx files can be imported."})
    if not cmd.data:
        raise RuleViolation({"file": "The file is empty."})
    if len(cmd.data) > MAX_UPLOAD_BYTES:
        raise RuleViolation({"file": f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
    job = ImportJob(
        id=uuid.uuid4(),
        filename=name,
        file_sha256=hashlib.sha256(cmd.data).hexdigest(),
        uploaded_by=cmd.principal.audit_label(),
        uploaded_at=now(),
    )
    with uow:
        uow.imports.add_with_file(job, cmd.data)
        uow.commit()
    log.info("import %s queued: %s (%d bytes) by %s", job.id, name, len(cmd.data), cmd.principal.subject)
    return job


@dataclass(frozen=True)
class ClaimedImport:
    job_id: uuid.UUID
    filename: str
    next_index: int
    data: bytes


def claim_import(
    cmd: ClaimImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]
) -> ClaimedImport | None:
    with uow:
        job = uow.imports.claim_next(cmd.worker, now())
        if job is None or not job.lease(cmd.worker, now(), LEASE):
            return None
        claimed = ClaimedImport(job.id, job.filename, job.next_index, uow.imports.file(job.id))
        uow.commit()
    return claimed


def _leased_job(
    uow: TrainingRecordsUnitOfWork, job_id: uuid.UUID, worker: str, now: datetime
) -> ImportJob | None:
    """The job, row-locked, if this worker still holds it (renewing the lease)."""
    job = uow.imports.lock(job_id)
    if job is None or not job.lease(worker, now, LEASE):
        return None
    return job


def begin_import(cmd: BeginImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]) -> None:
    with uow:
        job = _leased_job(uow, cmd.job_id, cmd.worker, now())
        if job is not None:
            job.start(cmd.total_rows, now())
            uow.commit()


def fail_import(cmd: FailImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]) -> None:
    with uow:
        job = _leased_job(uow, cmd.job_id, cmd.worker, now())
        if job is not None:
            job.fail(cmd.code, cmd.detail, now())
            uow.imports.drop_file(job.id)  # personal data: kept only while the import needs it
            uow.commit()
    log.warning("import %s failed: %s", cmd.job_id, cmd.code)


def finish_import(cmd: FinishImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]) -> None:
    with uow:
        job = _leased_job(uow, cmd.job_id, cmd.worker, now())
        if job is not None:
            job.succeed(now())
            uow.imports.drop_file(job.id)  # personal data: kept only while the import needs it
            uow.commit()
            log.info(
                "import %s done: %d rows, %d new, %d updated, %d unchanged, %d with errors",
                job.id,
                job.done_rows,
                job.created_count,
                job.updated_count,
                job.unchanged_count,
                job.error_count,
            )


def apply_import_chunk(
    cmd: ApplyImportChunk,
    uow: TrainingRecordsUnitOfWork,
    *,
    today: Callable[[], date],
    now: Callable[[], datetime],
) -> bool:
    """Apply one chunk of rows with the job's progress, in one transaction. False if it was
    applied before (a restarted worker) or the job is no longer this worker's."""
    at = now()
    with uow:
        job = _leased_job(uow, cmd.job_id, cmd.worker, at)
        if job is None or job.next_index != cmd.start_index:
            return False
        chunk = _Chunk(uow, job, cmd.rows, today(), at)
        chunk.apply()
        job.record_chunk(
            rows=len(cmd.rows),
            errors=chunk.error_rows,
            created=chunk.created,
            updated=chunk.updated,
            unchanged=chunk.unchanged,
            next_index=cmd.start_index + len(cmd.rows),
        )
        uow.import_errors.add_all(chunk.errors)
        uow.commit()
    return True


@dataclass(frozen=True)
class _NewContract:
    contract: Contract
    company: Company
    apprentice: Apprentice
    occupation: Occupation


class _Chunk:
    """The rows of one chunk against the register, with what they need loaded up front."""

    def __init__(
        self,
        uow: TrainingRecordsUnitOfWork,
        job: ImportJob,
        rows: tuple[ImportRowOutcome, ...],
        today: date,
        at: datetime,
    ) -> None:
        self.uow, self.job, self.rows, self.today, self.at = uow, job, rows, today, at
        self.errors: list[ImportRowError] = []
        self.new: list[_NewContract] = []
        self.error_rows = self.created = self.updated = self.unchanged = 0
        records = [row.record for row in rows if row.record is not None]
        numbers = {r.company.company_number for r in records} | {
            r.company.head_office_number for r in records if r.company.head_office_number
        }
        self.companies = uow.companies.get_many(sorted(numbers))
        self.occupations = uow.occupations.all_by_code()
        self.contracts = uow.contracts.by_source_keys([r.source_contract_number for r in records])
        self.trainers = uow.trainers.active_of_companies(sorted({r.company.company_number for r in records}))

    def apply(self) -> None:
        """Check and apply each row; new contracts are written together at the end (one number
        range per year, one flush), so a chunk costs a handful of round trips, not one per row."""
        for row in self.rows:
            if row.record is None:
                self._reject(
                    [ImportRowError(self.job.id, e.line, e.field, e.code, e.message_de) for e in row.errors]
                )
                continue
            problems = self._check(row.record)
            if problems:
                self._reject(problems)
                continue
            self._apply(row.record)
        self._register_new()

    def _reject(self, errors: list[ImportRowError]) -> None:
        self.errors.extend(errors)
        self.error_rows += 1

    # -- checks (nothing is written for a row until all of them pass) --

    def _check(self, record: ImportRecord) -> list[ImportRowError]:
        job_id, line = self.job.id, record.line
        errors: list[ImportRowError] = []
        occupation = self.occupations.get(record.occupation_code)
        if occupation is None or not occupation.active:
            errors.append(
                ImportRowError(
                    job_id,
                    line,
                    "beruf",
                    "unknown_occupation",
                    "Unbekannter oder nicht mehr gültiger Ausbildungsberuf.",
                )
            )
        head = record.company.head_office_number
        if head and head not in self.companies:
            errors.append(
                ImportRowError(
                    job_id,
                    line,
                    "zentrale_identnummer",
                    "unknown_company",
                    "Die Zentrale ist nicht im Register (und steht nicht weiter oben in der Datei).",
                )
            )
        elif head and self.companies[head].head_office_number is not None:
            errors.append(
                ImportRowError(
                    job_id,
                    line,
                    "zentrale_identnummer",
                    "head_office_is_branch",
                    "Die angegebene Zentrale ist selbst eine Niederlassung.",
                )
            )
        existing = self.contracts.get(record.source_contract_number)
        if existing is not None and existing.company_number != record.company.company_number:
            errors.append(
                ImportRowError(
                    job_id,
                    line,
                    "identnummer",
                    "other_company",
                    "Der Vertrag ist im Register bei einem anderen Betrieb eingetragen.",
                )
            )
        if occupation is None or errors:
            return errors
        rule_errors: dict[FieldPath | str, str] = {}
        if existing is None:
            try:
                check_new_contract(
                    start_date=record.start_date,
                    end_date=record.end_date,
                    registered_on=record.registered_on or self.today,
                    birth_date=record.apprentice.birth_date,
                    today=self.today,
                )
            except RuleViolation as violation:
                rule_errors.update(violation.errors.items())
        elif record.end_date <= record.start_date:
            rule_errors["end_date"] = "The end date must be after the start date."
        rule_errors.update(
            check_terms(
                probation_months=record.probation_months,
                shortened_by_months=record.shortening_months,
                specialism=record.specialism,
                occupation=occupation,
            )
        )
        broken = {(k,) if isinstance(k, str) else k for k in rule_errors}
        # The duration is measured against the shortening, so only a valid one.
        if ("end_date",) not in broken and ("shortened_by_months",) not in broken:
            try:
                check_duration(
                    record.start_date, record.end_date, occupation, record.part_time, record.shortening_months
                )
            except RuleViolation as violation:
                rule_errors.update(violation.errors.items())
        return _rule_errors(job_id, line, RuleViolation(rule_errors)) if rule_errors else []

    # -- writes --

    def _apply(self, record: ImportRecord) -> None:
        company = self._company(record)
        trainer = self._trainer(record, company)
        occupation = self.occupations[record.occupation_code]
        existing = self.contracts.get(record.source_contract_number)
        row_fingerprint = fingerprint(record)
        if existing is None:
            self._register(record, company, occupation, trainer, row_fingerprint)
            self.created += 1
        elif existing.source_fingerprint == row_fingerprint:
            self.unchanged += 1
        else:
            self._correct(existing, record, trainer, row_fingerprint)
            self.updated += 1

    def _company(self, record: ImportRecord) -> Company:
        data = record.company
        company = self.companies.get(data.company_number)
        if company is None:
            company = Company(
                company_number=data.company_number,
                name=data.name,
                email=data.email,
                street=data.street,
                postal_code=data.postal_code,
                city=data.city,
            )
            self.uow.companies.add(company)
            self.companies[company.company_number] = company
            self.uow.emit(CompanyRegistered(**company_data(company)), subject=company.company_number)
        elif company.change(
            name=data.name, email=data.email, street=data.street, postal_code=data.postal_code, city=data.city
        ):
            self.uow.emit(CompanyChanged(**company_data(company)), subject=company.company_number)
        if data.head_office_number and company.assign_to_head_office(self.companies[data.head_office_number]):
            self.uow.emit(
                BranchAssigned(company.company_number, data.head_office_number),
                subject=company.company_number,
            )
        return company

    def _trainer(self, record: ImportRecord, company: Company) -> Trainer | None:
        data = record.trainer
        if data is None:
            return None
        key = (company.company_number, data.email.casefold())
        trainer = self.trainers.get(key)
        qualified = bool(data.qualified)
        if trainer is None:
            trainer = Trainer(
                uuid.uuid4(), company.company_number, data.first_name, data.last_name, data.email, qualified
            )
            self.uow.trainers.add(trainer)
            self.trainers[key] = trainer
            self.uow.emit(TrainerAdded(**trainer_payload(trainer)), subject=str(trainer.id))
        elif trainer.change(
            first_name=data.first_name,
            last_name=data.last_name,
            email=data.email,
            qualified=trainer.qualified if data.qualified is None else data.qualified,
        ):
            self.uow.emit(TrainerChanged(**trainer_payload(trainer)), subject=str(trainer.id))
        return trainer

    def _register(
        self,
        record: ImportRecord,
        company: Company,
        occupation: Occupation,
        trainer: Trainer | None,
        row_fingerprint: str,
    ) -> None:
        registered_on = record.registered_on or self.today
        apprentice = Apprentice(
            id=uuid.uuid4(),
            first_name=record.apprentice.first_name,
            last_name=record.apprentice.last_name,
            birth_date=record.apprentice.birth_date,
            email=record.apprentice.email,
        )
        self.uow.apprentices.add(apprentice)
        contract = Contract(
            id=uuid.uuid4(),
            contract_number="",  # numbered in _register_new, per year in one range
            company_number=company.company_number,
            apprentice_id=apprentice.id,
            occupation_code=occupation.code,
            start_date=record.start_date,
            end_date=record.end_date,
            registered_on=registered_on,
            state=ContractState.REGISTERED,
            registered_by=self.job.uploaded_by,
            specialism=record.specialism,
            probation_months=record.probation_months,
            part_time=record.part_time,
            shortened_by_months=record.shortening_months,
            trainer_id=trainer.id if trainer else None,
            source_key=record.source_contract_number,
            source_fingerprint=row_fingerprint,
        )
        self.contracts[record.source_contract_number] = contract
        self.new.append(_NewContract(contract, company, apprentice, occupation))

    def _register_new(self) -> None:
        uow = self.uow
        by_year: dict[int, list[_NewContract]] = {}
        for new in self.new:
            by_year.setdefault(new.contract.registered_on.year, []).append(new)
        for year, entries in sorted(by_year.items()):
            for new, sequence in zip(
                entries, uow.contract_numbers.next_values(year, len(entries)), strict=True
            ):
                new.contract.contract_number = format_contract_number(year, sequence)
        uow.contracts.add_all([new.contract for new in self.new])
        details: dict[str, str | None] = {"import": str(self.job.id)}
        for new in self.new:
            contract = new.contract
            record_change(
                uow,
                contract,
                ChangeKind.REGISTERED,
                contract.registered_on,
                dict(details),
                by=self.job.uploaded_by,
                at=self.at,
                announce=False,
            )
            uow.emit(
                contract_registered(contract, new.company, new.apprentice, new.occupation),
                subject=str(contract.id),
            )

    def _correct(
        self, contract: Contract, record: ImportRecord, trainer: Trainer | None, row_fingerprint: str
    ) -> None:
        """Newer data from the chamber's register: take it over and record it as a correction."""
        apprentice = self.uow.apprentices.get(contract.apprentice_id)
        assert apprentice is not None
        apprentice.first_name, apprentice.last_name = (
            record.apprentice.first_name,
            record.apprentice.last_name,
        )
        apprentice.birth_date, apprentice.email = record.apprentice.birth_date, record.apprentice.email
        details: dict[str, str | None] = {"import": str(self.job.id)}
        if (contract.start_date, contract.end_date) != (record.start_date, record.end_date):
            details["end_date"] = record.end_date.isoformat()
        contract.occupation_code = record.occupation_code
        contract.start_date, contract.end_date = record.start_date, record.end_date
        contract.specialism, contract.probation_months = record.specialism, record.probation_months
        contract.part_time, contract.shortened_by_months = record.part_time, record.shortening_months
        if trainer is not None:
            contract.trainer_id = trainer.id
        contract.source_fingerprint = row_fingerprint
        record_change(
            self.uow,
            contract,
            ChangeKind.DETAILS_CORRECTED,
            self.today,
            details,
            by=self.job.uploaded_by,
            at=self.at,
        )


# -- queries ----------------------------------------------------------------------------------------


def list_imports(
    query: ListImports, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]
) -> Page[ImportProgress]:
    access.check_may_import(query.principal)
    with uow:
        page = uow.imports.page_all(query.page)
    at = now()
    return Page(tuple(ImportProgress(job, job.seconds_left(at)) for job in page.items), page.next_cursor)


def get_import(
    query: GetImport, uow: TrainingRecordsUnitOfWork, *, now: Callable[[], datetime]
) -> ImportProgress:
    access.check_may_import(query.principal)
    with uow:
        job = uow.imports.get(query.job_id)
    if job is None:
        raise NotFound("No such import.")
    return ImportProgress(job, job.seconds_left(now()))


def list_import_errors(query: ListImportErrors, uow: TrainingRecordsUnitOfWork) -> Page[ImportRowError]:
    access.check_may_import(query.principal)
    with uow:
        if uow.imports.get(query.job_id) is None:
            raise NotFound("No such import.")
        return uow.import_errors.page_of_job(query.job_id, query.page)


# -- the worker -------------------------------------------------------------------------------------


def outcomes(rows: list[Any]) -> list[ImportRowOutcome]:
    """Every row of the table parsed: its record, or its errors (duplicates included)."""
    duplicates: dict[int, list[RowError]] = {}
    for error in find_duplicates(rows):
        duplicates.setdefault(error.line, []).append(error)
    parsed: list[ImportRowOutcome] = []
    for row in rows:
        if row.line in duplicates:
            parsed.append(ImportRowOutcome(row.line, None, tuple(duplicates[row.line])))
            continue
        result = parse_row(row.values, row.line)
        if isinstance(result, ImportRecord):
            parsed.append(ImportRowOutcome(row.line, result))
        else:
            parsed.append(ImportRowOutcome(row.line, None, tuple(result)))
    return parsed


def chunks(
    items: list[ImportRowOutcome], start: int, size: int
) -> Iterator[tuple[int, tuple[ImportRowOutcome, ...]]]:
    for index in range(start, len(items), size):
        yield index, tuple(items[index : index + size])


class ImportWorker:
    """Claims queued imports and runs them through the message bus, chunk by chunk."""

    def __init__(
        self,
        bus: MessageBus[Any],
        *,
        name: str,
        poll_interval: float = 1.0,
        wakeup: threading.Event | None = None,
    ) -> None:
        self.bus, self.name, self.poll_interval = bus, name, poll_interval
        self.wakeup = wakeup or threading.Event()

    def run(self, stop: threading.Event) -> None:
        log.info("import worker %s running", self.name)
        while not stop.is_set():
            self.wakeup.clear()
            try:
                worked = self.run_once(stop)
            except Exception:  # a database outage: keep the worker alive and try again
                log.exception("import worker: an import step failed; retrying")
                worked = False
                stop.wait(self.poll_interval * 5)
            if not worked:
                self.wakeup.wait(self.poll_interval)

    def run_once(self, stop: threading.Event | None = None) -> bool:
        """Run one claimed job to its end (or to ``stop``); False if there was none."""
        claimed: ClaimedImport | None = self.bus.handle(ClaimImport(self.name))
        if claimed is None:
            return False
        job_id = claimed.job_id
        try:
            table = read_table(claimed.data, claimed.filename, max_bytes=MAX_UPLOAD_BYTES, max_rows=MAX_ROWS)
        except ImportFileError as error:
            self.bus.handle(FailImport(job_id, self.name, error.code, error.message_de, error.line))
            return True
        rows = outcomes(list(table.rows))
        self.bus.handle(BeginImport(job_id, self.name, len(rows)))
        for start, chunk in chunks(rows, claimed.next_index, CHUNK_ROWS):
            if stop is not None and stop.is_set():
                return True  # the next worker resumes after the last committed chunk
            if not self.bus.handle(ApplyImportChunk(job_id, self.name, start, chunk)):
                log.warning("import %s: chunk at %d was not ours to apply; leaving the job", job_id, start)
                return True
        self.bus.handle(FinishImport(job_id, self.name))
        return True


def all_errors(bus: MessageBus[Any], query: ListImportErrors) -> Iterator[ImportRowError]:
    """Every error of an import, page by page (for the downloadable report)."""
    request = PageRequest(limit=MAX_LIMIT)
    while True:
        page = bus.handle(ListImportErrors(query.principal, query.job_id, request))
        yield from page.items
        if page.next_cursor is None:
            return
        request = PageRequest(cursor=page.next_cursor, limit=MAX_LIMIT)


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    UploadImport: upload_import,
    ClaimImport: claim_import,
    BeginImport: begin_import,
    FailImport: fail_import,
    ApplyImportChunk: apply_import_chunk,
    FinishImport: finish_import,
    ListImports: list_imports,
    GetImport: get_import,
    ListImportErrors: list_import_errors,
}
# The import is started by commands only; it consumes no events.
EVENT_HANDLERS: dict[str, Callable[..., None]] = {}

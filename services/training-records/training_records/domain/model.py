"""The register of training contracts: entities, value objects and their rules.

Plain Python only. Aggregates refer to each other by identity (company number,
apprentice id, occupation code), never by object, so that each one can be
loaded and changed on its own.
"""

from __future__ import annotations

import calendar
import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chassis.domain import FieldPath, RuleViolation

# Plausibility rules for a new entry in the register (documented in the README).
MIN_AGE_AT_START = 14  # JArbSchG §7: training is open to those no longer of full-time school age
MAX_AGE_AT_START = 70  # anything older is almost certainly a typo in the birth date
# Part-time training may stretch the longest regular duration (3.5 years) by half
# (BBiG §7a); six years catches mistyped years without refusing real contracts.
MAX_DURATION_YEARS = 6


# BBiG §20: the probation period lasts at least one month and at most four.
MIN_PROBATION_MONTHS = 1
MAX_PROBATION_MONTHS = 4
# BBiG §7a: part-time training may last at most one and a half times the standard duration.
PART_TIME_FACTOR = 1.5
# BBiG §8 leaves the shortening to the chamber; its guideline (and ours) is at most 12 months.
MAX_SHORTENING_MONTHS = 12
# Contracts are written to the end of a month or to an exam date: a month either way is plausible.
DURATION_TOLERANCE_MONTHS = 1


class ContractState(enum.StrEnum):
    """States of a training contract in the register; the UI shows German labels."""

    REGISTERED = "registered"  # "eingetragen"
    INTERRUPTED = "interrupted"  # "unterbrochen"
    COMPLETED = "completed"  # "abgeschlossen"
    TERMINATED = "terminated"  # "vorzeitig gelöst"

    @property
    def is_running(self) -> bool:
        return self in (ContractState.REGISTERED, ContractState.INTERRUPTED)


class ChangeKind(enum.StrEnum):
    """One step in a contract's life; each is recorded in its history and announced as an event."""

    REGISTERED = "registered"
    EXTENDED = "extended"  # "verlängert"
    SHORTENED = "shortened"  # "verkürzt"
    INTERRUPTED = "interrupted"  # "unterbrochen"
    RESUMED = "resumed"  # "fortgesetzt"
    TRAINER_CHANGED = "trainer_changed"  # "Ausbilder/-in gewechselt"
    DETAILS_CORRECTED = "details_corrected"  # "berichtigt" (the chamber's import brought newer data)
    COMPLETED = "completed"  # "abgeschlossen"
    TERMINATED = "terminated"  # "vorzeitig gelöst"


class TerminationReason(enum.StrEnum):
    """Why a contract ended early (the register's categories)."""

    PROBATION = "probation"  # "Kündigung in der Probezeit"
    BY_APPRENTICE = "by_apprentice"  # "Kündigung durch Auszubildende/n"
    BY_COMPANY = "by_company"  # "Kündigung durch den Betrieb"
    MUTUAL = "mutual"  # "Aufhebungsvertrag"
    OTHER = "other"  # "sonstiger Grund"


class AccountState(enum.StrEnum):
    """The apprentice's portal account, as identity reports it."""

    NONE = "none"  # no account prepared yet ("noch nicht angelegt")
    PREPARED = "prepared"  # Azubinummer and activation code issued ("vorbereitet")
    INVITED = "invited"  # the company created the account; its link awaits the password ("eingeladen")
    ACTIVE = "active"  # activated by the apprentice ("aktiv")


# Account states only move forward, whatever order their events arrive in.
ACCOUNT_STATE_ORDER = (AccountState.NONE, AccountState.PREPARED, AccountState.INVITED, AccountState.ACTIVE)


def later_state(current: AccountState, reported: AccountState) -> AccountState:
    return max(current, reported, key=ACCOUNT_STATE_ORDER.index)


class RecipientKind(enum.StrEnum):
    COMPANY = "company"
    APPRENTICE = "apprentice"


@dataclass
class Occupation:
    """A recognised occupation (Ausbildungsberuf) in the chamber's catalogue.

    Facts the catalogue does not know for certain stay ``None`` (unknown), and the
    rules that need them are then not applied.
    """

    code: str
    title: str
    specialisms: list[str] = field(default_factory=list)  # Fachrichtungen / Schwerpunkte
    duration_months: int | None = None  # the regulation's standard duration
    split_final_exam: bool | None = None  # gestreckte Abschlussprüfung: Teil 1 and Teil 2
    retired_on: date | None = None  # retired entries stay for old contracts but take no new ones

    @property
    def active(self) -> bool:
        return self.retired_on is None

    def retire(self, on: date) -> bool:
        if self.retired_on is not None:
            return False
        self.retired_on = on
        return True


# Master data a company's registration carries; compared and changed field by field.
COMPANY_MASTER_DATA = ("name", "email", "street", "postal_code", "city")


@dataclass
class Company:
    company_number: str  # the chamber's Identnummer
    name: str
    email: str
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    # The head office (Zentrale) this company is a branch of, if any.
    head_office_number: str | None = None
    # Whether this head office's roles reach its branches (switched on by the chamber).
    branch_reach: bool = False
    # Consent to appear in the public Ausbildungsatlas; withdrawing it hides every entry at once.
    atlas_consent: bool = False

    def change(self, **given: str | None) -> dict[str, str | None]:
        """Apply the given master data (None: unchanged); returns what changed."""
        changed: dict[str, str | None] = {}
        for name, value in given.items():
            if name not in COMPANY_MASTER_DATA:
                raise ValueError(f"not master data: {name}")
            if value is None:
                continue
            cleaned = " ".join(value.split()) or None
            if name in ("name", "email") and cleaned is None:
                raise RuleViolation({name: "Required."})
            if _normalise(name, cleaned) != _normalise(name, getattr(self, name)):
                setattr(self, name, cleaned)
                changed[name] = cleaned
        return changed

    def assign_to_head_office(self, head_office: Company) -> bool:
        """Make this company a branch of ``head_office``; returns whether anything changed."""
        if head_office.company_number == self.company_number:
            raise RuleViolation({"head_office_number": "A company cannot be its own head office."})
        if head_office.head_office_number is not None:
            raise RuleViolation(
                {"head_office_number": "That company is itself a branch; name its head office instead."}
            )
        if self.head_office_number == head_office.company_number:
            return False
        self.head_office_number = head_office.company_number
        return True

    def remove_from_head_office(self) -> str | None:
        """Detach from the head office; returns the former head office's number (None: was none)."""
        former = self.head_office_number
        if former is not None:  # untouched otherwise: an unchanged company is not written
            self.head_office_number = None
        return former

    def differences(self, **given: str | None) -> dict[str, str]:
        """Which of the given master data differ from ours (None means "not given")."""
        differing = {}
        for name, value in given.items():
            if value is None:
                continue
            ours = getattr(self, name)
            if _normalise(name, value) != _normalise(name, ours):
                differing[name] = value
        return differing


def _normalise(name: str, value: str | None) -> str:
    text = " ".join((value or "").split())
    return text.casefold() if name == "email" else text


@dataclass
class Apprentice:
    id: uuid.UUID
    first_name: str
    last_name: str
    birth_date: date
    email: str
    apprentice_number: str | None = None  # the Azubinummer, assigned by identity

    def assign_number(self, apprentice_number: str) -> None:
        if self.apprentice_number not in (None, apprentice_number):
            raise ValueError(
                f"apprentice {self.id} already has number {self.apprentice_number}, not {apprentice_number}"
            )
        self.apprentice_number = apprentice_number


@dataclass
class ApprenticeAccount:
    """training-records' read model of an apprentice's account at identity.

    Keyed by Azubinummer. Its state only moves forward, so the events that
    change it may arrive in any order and more than once.
    """

    apprentice_number: str
    account_id: uuid.UUID
    state: AccountState
    activated_at: datetime | None = None

    def mark_prepared(self) -> None:
        self.state = later_state(self.state, AccountState.PREPARED)

    def mark_invited(self) -> None:
        self.state = later_state(self.state, AccountState.INVITED)

    def mark_activated(self, at: datetime) -> None:
        self.state = AccountState.ACTIVE
        if self.activated_at is None or at < self.activated_at:
            self.activated_at = at


@dataclass
class TrainerAccount:
    """training-records' read model of a trainer's account at identity (Account erstellen).

    Keyed by trainer; its state only moves forward (invited, then active)."""

    trainer_id: uuid.UUID
    account_id: uuid.UUID
    state: AccountState
    activated_at: datetime | None = None

    def mark(self, state: AccountState, account_id: uuid.UUID) -> None:
        if ACCOUNT_STATE_ORDER.index(state) >= ACCOUNT_STATE_ORDER.index(self.state):
            self.account_id = account_id
        self.state = later_state(self.state, state)

    def mark_activated(self, at: datetime) -> None:
        self.state = AccountState.ACTIVE
        if self.activated_at is None or at < self.activated_at:
            self.activated_at = at


@dataclass
class Trainer:
    """An Ausbilder/-in of a company, with or without the Ausbildereignung (AEVO)."""

    id: uuid.UUID
    company_number: str
    first_name: str
    last_name: str
    email: str
    qualified: bool  # holds the Ausbildereignung
    removed_on: date | None = None  # removed trainers stay in old contracts' history

    @property
    def active(self) -> bool:
        return self.removed_on is None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def change(self, *, first_name: str, last_name: str, email: str, qualified: bool) -> bool:
        before = (self.first_name, self.last_name, self.email.casefold(), self.qualified)
        self.first_name, self.last_name, self.email, self.qualified = first_name, last_name, email, qualified
        return before != (first_name, last_name, email.casefold(), qualified)


@dataclass
class ContractChange:
    """One entry of a contract's history: what happened, when it takes effect, who recorded it."""

    id: uuid.UUID
    contract_id: uuid.UUID
    kind: ChangeKind
    effective_on: date
    recorded_at: datetime
    recorded_by: str | None
    details: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Contract:
    """An Ausbildungsverhältnis as entered in the chamber's register, and its life until it ends."""

    id: uuid.UUID
    contract_number: str
    company_number: str
    apprentice_id: uuid.UUID
    occupation_code: str
    start_date: date
    end_date: date
    registered_on: date
    state: ContractState = ContractState.REGISTERED
    registered_by: str | None = None  # the account (token subject) that entered it; None if seeded
    # When the Eintragungsbestätigung was first opened, per recipient.
    confirmation_opened_by_company_at: datetime | None = None
    confirmation_opened_by_apprentice_at: datetime | None = None
    specialism: str | None = None  # Fachrichtung, where the occupation has them
    probation_months: int | None = None  # None only for entries made before it was recorded
    part_time: bool = False
    shortened_by_months: int = 0
    trainer_id: uuid.UUID | None = None
    interrupted_since: date | None = None
    ended_on: date | None = None
    termination_reason: TerminationReason | None = None
    # The chamber's import: the source register's contract number, and a fingerprint of the
    # row last applied, so a re-import of the same data changes nothing.
    source_key: str | None = None
    source_fingerprint: str | None = None

    def record_confirmation_opened(self, recipient: RecipientKind, at: datetime) -> bool:
        """Keep the first opening per recipient; returns whether anything changed."""
        attribute = f"confirmation_opened_by_{recipient.value}_at"
        current: datetime | None = getattr(self, attribute)
        if current is not None and current <= at:
            return False
        setattr(self, attribute, at)
        return True

    # -- the contract's life: each step checks its rule and returns what to record ----------------

    def _require_running(self) -> None:
        if not self.state.is_running:
            raise RuleViolation({"state": "The contract has ended; it can no longer be changed."})

    def extend(self, new_end_date: date, occupation: Occupation) -> dict[str, str | None]:
        self._require_running()
        if new_end_date <= self.end_date:
            raise RuleViolation({"end_date": "An extension must end after the current end date."})
        check_duration(self.start_date, new_end_date, occupation, self.part_time, 0, extension=True)
        previous, self.end_date = self.end_date, new_end_date
        return {"previous_end_date": previous.isoformat(), "end_date": new_end_date.isoformat()}

    def shorten(self, new_end_date: date, occupation: Occupation) -> dict[str, str | None]:
        self._require_running()
        if new_end_date >= self.end_date:
            raise RuleViolation({"end_date": "A shortening must end before the current end date."})
        if new_end_date <= self.start_date:
            raise RuleViolation({"end_date": "The end date must be after the start date."})
        removed = months_between(new_end_date, self.end_date)
        shortening = self.shortened_by_months + removed
        if shortening > MAX_SHORTENING_MONTHS:
            raise RuleViolation(
                {"end_date": f"A contract can be shortened by at most {MAX_SHORTENING_MONTHS} months in all."}
            )
        previous, self.end_date = self.end_date, new_end_date
        self.shortened_by_months = shortening
        return {"previous_end_date": previous.isoformat(), "end_date": new_end_date.isoformat()}

    def interrupt(self, since: date) -> dict[str, str | None]:
        self._require_running()
        if self.state is ContractState.INTERRUPTED:
            raise RuleViolation({"state": "The contract is already interrupted."})
        if not self.start_date <= since <= self.end_date:
            raise RuleViolation({"effective_on": "The interruption must begin within the contract's term."})
        self.state, self.interrupted_since = ContractState.INTERRUPTED, since
        return {"since": since.isoformat()}

    def resume(self, on: date, new_end_date: date | None, occupation: Occupation) -> dict[str, str | None]:
        if self.state is not ContractState.INTERRUPTED or self.interrupted_since is None:
            raise RuleViolation({"state": "Only an interrupted contract can be resumed."})
        if on < self.interrupted_since:
            raise RuleViolation({"effective_on": "Training cannot resume before the interruption began."})
        details: dict[str, str | None] = {"since": self.interrupted_since.isoformat()}
        if new_end_date is not None and new_end_date < self.end_date:
            raise RuleViolation(
                {"end_date": "Resuming can only keep or extend the end date; shorten it separately."}
            )
        if new_end_date is not None and new_end_date != self.end_date:
            if new_end_date <= on:
                raise RuleViolation({"end_date": "The new end date must be after the day training resumes."})
            check_duration(self.start_date, new_end_date, occupation, self.part_time, 0, extension=True)
            details["previous_end_date"] = self.end_date.isoformat()
            details["end_date"] = new_end_date.isoformat()
            self.end_date = new_end_date
        self.state, self.interrupted_since = ContractState.REGISTERED, None
        return details

    def change_trainer(self, trainer: Trainer | None) -> dict[str, str | None]:
        self._require_running()
        if trainer is not None:
            if trainer.company_number != self.company_number:
                raise RuleViolation({"trainer_id": "No such trainer at the contract's company."})
            if not trainer.active:
                raise RuleViolation({"trainer_id": "That trainer has been removed."})
        new_id = trainer.id if trainer is not None else None
        if new_id == self.trainer_id:
            raise RuleViolation({"trainer_id": "That trainer is already assigned."})
        previous, self.trainer_id = self.trainer_id, new_id
        return {
            "previous_trainer_id": str(previous) if previous else None,
            "trainer_id": str(new_id) if new_id else None,
        }

    def complete(self, on: date) -> dict[str, str | None]:
        self._require_running()
        if on < self.start_date:
            raise RuleViolation({"effective_on": "Training cannot be completed before it started."})
        self.state, self.ended_on, self.interrupted_since = ContractState.COMPLETED, on, None
        return {"ended_on": on.isoformat()}

    def terminate(self, on: date, reason: TerminationReason) -> dict[str, str | None]:
        self._require_running()
        if on < self.registered_on and on < self.start_date:
            raise RuleViolation({"effective_on": "The contract cannot end before it was entered."})
        if on > self.end_date:
            raise RuleViolation({"effective_on": "An early termination must be on or before the end date."})
        if reason is TerminationReason.PROBATION and not self.in_probation(on):
            raise RuleViolation({"reason": "That date is not within the probation period."})
        self.state, self.ended_on, self.termination_reason = ContractState.TERMINATED, on, reason
        self.interrupted_since = None
        return {"ended_on": on.isoformat(), "reason": reason.value}

    def in_probation(self, on: date) -> bool:
        months = self.probation_months or MAX_PROBATION_MONTHS
        return self.start_date <= on < add_months(self.start_date, months)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day where it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end``, rounded to the nearest month (a term 1 Aug–31 Jul is 12)."""
    days = (end - start).days + 1
    return round(days / (365.25 / 12))


def check_duration(
    start_date: date,
    end_date: date,
    occupation: Occupation,
    part_time: bool,
    shortened_by_months: int,
    *,
    extension: bool = False,
) -> None:
    """The duration against the occupation's standard (skipped where the standard is unknown).

    Full time: the standard less the shortening, give or take a month. Part time (BBiG §7a):
    up to one and a half times the standard. An extension (BBiG §21 (3): until the exam is
    passed, at most a year) may exceed it by twelve months.
    """
    if occupation.duration_months is None:
        return
    months = months_between(start_date, end_date)
    standard = occupation.duration_months
    longest = round(standard * PART_TIME_FACTOR) if part_time else standard - shortened_by_months
    longest += DURATION_TOLERANCE_MONTHS + (12 if extension else 0)
    shortest = standard - shortened_by_months - DURATION_TOLERANCE_MONTHS
    if extension:
        shortest = 0
    if months > longest:
        raise RuleViolation(
            {
                "end_date": f"{months} months is longer than {occupation.title} allows "
                f"(standard {standard} months{', part time' if part_time else ''})."
            }
        )
    if months < shortest:
        raise RuleViolation(
            {
                "end_date": f"{months} months is shorter than the standard {standard} months "
                f"less the shortening of {shortened_by_months}."
            }
        )


def check_terms(
    *, probation_months: int, shortened_by_months: int, specialism: str | None, occupation: Occupation
) -> dict[FieldPath | str, str]:
    """The contract's terms against the law and the occupation; returns the broken rules by field."""
    errors: dict[FieldPath | str, str] = {}
    if not MIN_PROBATION_MONTHS <= probation_months <= MAX_PROBATION_MONTHS:
        errors[("probation_months",)] = (
            f"The probation period lasts {MIN_PROBATION_MONTHS} to {MAX_PROBATION_MONTHS} months (BBiG §20)."
        )
    if not 0 <= shortened_by_months <= MAX_SHORTENING_MONTHS:
        errors[("shortened_by_months",)] = f"A shortening is 0 to {MAX_SHORTENING_MONTHS} months."
    if specialism is not None and specialism not in occupation.specialisms:
        errors[("specialism",)] = (
            "Not a specialism of this occupation."
            if occupation.specialisms
            else "This occupation has no specialisms."
        )
    elif specialism is None and occupation.specialisms:
        errors[("specialism",)] = "This occupation requires a specialism (Fachrichtung)."
    return errors


def format_contract_number(year: int, sequence: int) -> str:
    """Register numbers run per year of registration: ``2026-000123``."""
    if not 1 <= sequence <= 999_999:
        raise ValueError(f"contract sequence out of range: {sequence}")
    return f"{year:04d}-{sequence:06d}"


def years_between(earlier: date, later: date) -> int:
    """Full years from ``earlier`` to ``later`` (a birthday on 29 Feb counts on 1 Mar)."""
    years = later.year - earlier.year
    if (later.month, later.day) < (earlier.month, earlier.day):
        years -= 1
    return years


def check_new_contract(
    *,
    start_date: date,
    end_date: date,
    registered_on: date,
    birth_date: date,
    today: date,
) -> None:
    """The plausibility rules for a new entry; raises ``RuleViolation`` naming every broken one."""
    errors: dict[FieldPath | str, str] = {}
    if end_date <= start_date:
        errors[("end_date",)] = "The end date must be after the start date."
    elif years_between(start_date, end_date) >= MAX_DURATION_YEARS:
        errors[("end_date",)] = f"A training contract cannot last {MAX_DURATION_YEARS} years or longer."
    if registered_on > today:
        errors[("registered_on",)] = "The registration date cannot be in the future."
    if birth_date >= today:
        errors[("apprentice", "birth_date")] = "The birth date must be in the past."
    else:
        age = years_between(birth_date, start_date)
        if age < MIN_AGE_AT_START:
            errors[("apprentice", "birth_date")] = (
                f"The apprentice must be at least {MIN_AGE_AT_START} years old at the start of training."
            )
        elif age > MAX_AGE_AT_START:
            errors[("apprentice", "birth_date")] = (
                f"The apprentice cannot be older than {MAX_AGE_AT_START} at the start of training."
            )
    if errors:
        raise RuleViolation(errors)


# -- the Ausbildungsatlas -------------------------------------------------------------------------


@dataclass
class AtlasEntry:
    """A company's offer of training places in one occupation, for the public Ausbildungsatlas.

    Shown only while the company consents (``Company.atlas_consent``).
    """

    company_number: str
    occupation_code: str
    places: int  # training places offered for the next start
    postal_code: str
    city: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None
    updated_at: datetime | None = None


# -- the chamber's data import (Datenübermittlung) -------------------------------------------------


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # "wartet"
    RUNNING = "running"  # "läuft"
    SUCCEEDED = "succeeded"  # "abgeschlossen"
    FAILED = "failed"  # "abgebrochen": the file as a whole was unusable


@dataclass
class ImportJob:
    """One uploaded file and how far its import has come.

    The worker applies rows in chunks; each chunk commits its rows together with the
    new ``next_line``, so a crash resumes after the last committed chunk and applies
    nothing twice.
    """

    id: uuid.UUID
    filename: str
    file_sha256: str
    uploaded_by: str
    uploaded_at: datetime
    status: ImportStatus = ImportStatus.QUEUED
    total_rows: int = 0
    done_rows: int = 0
    error_count: int = 0
    created_count: int = 0
    updated_count: int = 0
    unchanged_count: int = 0
    next_index: int = 0  # index of the next data row to apply
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure: str | None = None  # why the whole file failed (a code of ImportFileError)
    failure_detail: str | None = None  # German, for the clerk
    # The worker holding the job, until when: a crashed worker's job is taken over once its lease ends.
    worker: str | None = None
    lease_until: datetime | None = None

    def lease(self, worker: str, now: datetime, duration: timedelta) -> bool:
        """Take (or renew) the job for ``worker``; False while another worker's lease runs."""
        if self.finished:
            return False
        if self.worker not in (None, worker) and self.lease_until is not None and self.lease_until > now:
            return False
        self.worker, self.lease_until = worker, now + duration
        return True

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)

    def start(self, total_rows: int, at: datetime) -> None:
        if self.status is ImportStatus.QUEUED:
            self.status, self.total_rows, self.started_at = ImportStatus.RUNNING, total_rows, at

    def record_chunk(
        self, *, rows: int, errors: int, created: int, updated: int, unchanged: int, next_index: int
    ) -> None:
        self.done_rows += rows
        self.error_count += errors
        self.created_count += created
        self.updated_count += updated
        self.unchanged_count += unchanged
        self.next_index = next_index

    def succeed(self, at: datetime) -> None:
        self.status, self.finished_at = ImportStatus.SUCCEEDED, at

    def fail(self, code: str, detail: str, at: datetime) -> None:
        self.status, self.failure, self.failure_detail, self.finished_at = (
            ImportStatus.FAILED,
            code,
            detail,
            at,
        )

    def seconds_left(self, now: datetime) -> float | None:
        """The estimated time left, from the pace so far (None until there is a pace to go by)."""
        if self.status is not ImportStatus.RUNNING or self.started_at is None or self.done_rows == 0:
            return None
        elapsed = (now - self.started_at).total_seconds()
        return max(0.0, elapsed / self.done_rows * (self.total_rows - self.done_rows))


@dataclass
class ImportRowError:
    """A row the import could not apply, with its line in the file and the field at fault."""

    job_id: uuid.UUID
    line: int
    field: str
    code: str
    message: str  # German: clerks read it in the report

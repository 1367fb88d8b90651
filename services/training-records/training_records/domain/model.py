"""The register of training contracts: entities, value objects and their rules.

Plain Python only. Aggregates refer to each other by identity (company number,
apprentice id, occupation code), never by object, so that each one can be
loaded and changed on its own.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from chassis.domain import FieldPath, RuleViolation

# Plausibility rules for a new entry in the register (documented in the README).
MIN_AGE_AT_START = 14  # JArbSchG §7: training is open to those no longer of full-time school age
MAX_AGE_AT_START = 70  # anything older is almost certainly a typo in the birth date
# Part-time training may stretch the longest regular duration (3.5 years) by half
# (BBiG §7a); six years catches mistyped years without refusing real contracts.
MAX_DURATION_YEARS = 6


class ContractState(enum.StrEnum):
    """States of a training contract in the register; the UI shows German labels."""

    REGISTERED = "registered"  # "eingetragen"


class AccountState(enum.StrEnum):
    """The apprentice's portal account, as identity reports it."""

    NONE = "none"  # no account prepared yet ("noch nicht angelegt")
    PREPARED = "prepared"  # Azubinummer and activation code issued ("vorbereitet")
    ACTIVE = "active"  # activated by the apprentice ("aktiv")


class RecipientKind(enum.StrEnum):
    COMPANY = "company"
    APPRENTICE = "apprentice"


@dataclass
class Occupation:
    code: str
    title: str


@dataclass
class Company:
    company_number: str  # the chamber's Identnummer
    name: str
    email: str
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None

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
        if self.state is AccountState.NONE:
            self.state = AccountState.PREPARED

    def mark_activated(self, at: datetime) -> None:
        self.state = AccountState.ACTIVE
        if self.activated_at is None or at < self.activated_at:
            self.activated_at = at


@dataclass
class Contract:
    """An Ausbildungsverhältnis as entered in the chamber's register."""

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

    def record_confirmation_opened(self, recipient: RecipientKind, at: datetime) -> bool:
        """Keep the first opening per recipient; returns whether anything changed."""
        attribute = f"confirmation_opened_by_{recipient.value}_at"
        current: datetime | None = getattr(self, attribute)
        if current is not None and current <= at:
            return False
        setattr(self, attribute, at)
        return True


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

"""The register's domain rules, without database or broker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chassis.domain import RuleViolation
from training_records.domain.model import (
    AccountState,
    Apprentice,
    ApprenticeAccount,
    Company,
    Contract,
    RecipientKind,
    check_new_contract,
    format_contract_number,
    years_between,
)

TODAY = date(2026, 6, 15)


def check(**overrides: date) -> None:
    values = {
        "start_date": date(2026, 9, 1),
        "end_date": date(2029, 8, 31),
        "registered_on": TODAY,
        "birth_date": date(2009, 3, 14),
        "today": TODAY,
    }
    values.update(overrides)
    check_new_contract(**values)


def violated(**overrides: date) -> dict[tuple[str, ...], str]:
    with pytest.raises(RuleViolation) as caught:
        check(**overrides)
    return caught.value.errors


def test_a_plausible_contract_passes() -> None:
    check()


@pytest.mark.parametrize("end", [date(2026, 9, 1), date(2026, 8, 31)])
def test_end_must_be_after_start(end: date) -> None:
    assert set(violated(end_date=end)) == {("end_date",)}


def test_implausibly_long_contract_is_refused() -> None:
    assert set(violated(end_date=date(2032, 9, 1))) == {("end_date",)}
    check(end_date=date(2032, 8, 31))  # just under six years: part-time training can take that long


def test_registration_date_cannot_be_in_the_future() -> None:
    assert set(violated(registered_on=TODAY + timedelta(days=1))) == {("registered_on",)}


def test_historic_registration_is_allowed() -> None:
    check(
        registered_on=date(2015, 8, 1),
        start_date=date(2015, 9, 1),
        end_date=date(2018, 8, 31),
        birth_date=date(1999, 4, 1),
    )


def test_apprentice_must_be_fourteen_at_start() -> None:
    start = date(2026, 9, 1)
    check(birth_date=date(2012, 9, 1))  # fourteenth birthday on the first day
    errors = violated(birth_date=date(2012, 9, 2))
    assert set(errors) == {("apprentice", "birth_date")}
    assert "14" in errors[("apprentice", "birth_date")]
    assert years_between(date(2012, 9, 2), start) == 13


def test_implausibly_old_apprentice_is_refused() -> None:
    assert set(violated(birth_date=date(1950, 1, 1))) == {("apprentice", "birth_date")}


def test_birth_date_in_the_future_is_refused() -> None:
    assert set(violated(birth_date=TODAY + timedelta(days=3))) == {("apprentice", "birth_date")}


def test_every_broken_rule_is_named() -> None:
    errors = violated(end_date=date(2026, 1, 1), registered_on=date(2027, 1, 1), birth_date=date(2020, 1, 1))
    assert set(errors) == {("end_date",), ("registered_on",), ("apprentice", "birth_date")}


def test_leap_day_birthday_counts_from_first_of_march() -> None:
    assert years_between(date(2008, 2, 29), date(2022, 2, 28)) == 13
    assert years_between(date(2008, 2, 29), date(2022, 3, 1)) == 14


def test_contract_numbers_have_the_register_format() -> None:
    assert format_contract_number(2026, 123) == "2026-000123"
    with pytest.raises(ValueError):
        format_contract_number(2026, 1_000_000)
    with pytest.raises(ValueError):
        format_contract_number(2026, 0)


def test_company_differences_ignore_case_of_email_whitespace_and_omitted_fields() -> None:
    company = Company("4711001", "Muster GmbH", "Info@Muster.example", city="Kassel")
    assert company.differences(name=" Muster  GmbH ", email="info@muster.example", city=None) == {}
    assert company.differences(name="Muster AG", city="Fulda") == {"name": "Muster AG", "city": "Fulda"}


def test_apprentice_keeps_its_number() -> None:
    apprentice = Apprentice(uuid.uuid4(), "Lena", "L", date(2008, 1, 1), "l@example.org")
    apprentice.assign_number("20260001")
    apprentice.assign_number("20260001")  # the same again is a redelivery, not a conflict
    with pytest.raises(ValueError):
        apprentice.assign_number("20260002")


def test_account_state_only_moves_forward() -> None:
    first = datetime(2026, 9, 1, 10, tzinfo=UTC)
    account = ApprenticeAccount("20260001", uuid.uuid4(), AccountState.ACTIVE)
    account.mark_activated(first + timedelta(hours=1))
    account.mark_activated(first)
    account.mark_activated(first + timedelta(days=1))
    account.mark_prepared()
    assert account.state is AccountState.ACTIVE
    assert account.activated_at == first


def test_first_opening_of_the_confirmation_is_kept_per_recipient() -> None:
    contract = Contract(
        id=uuid.uuid4(),
        contract_number="2026-000001",
        company_number="4711001",
        apprentice_id=uuid.uuid4(),
        occupation_code="25400",
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
        registered_on=date(2026, 6, 15),
    )
    opened = datetime(2026, 6, 16, 9, 15, tzinfo=UTC)
    assert contract.record_confirmation_opened(RecipientKind.COMPANY, opened)
    assert not contract.record_confirmation_opened(RecipientKind.COMPANY, opened + timedelta(hours=2))
    # An earlier opening reported late (out-of-order delivery) wins.
    assert contract.record_confirmation_opened(RecipientKind.COMPANY, opened - timedelta(minutes=5))
    assert contract.confirmation_opened_by_company_at == opened - timedelta(minutes=5)
    assert contract.confirmation_opened_by_apprentice_at is None

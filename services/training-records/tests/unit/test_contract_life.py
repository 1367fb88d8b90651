"""The contract's whole life: every step's rule on ``Contract`` (and the duration and terms rules),
the month arithmetic behind them, and the use case through the message bus (history entry,
``training.contract.changed`` with the state after the step, nothing written when refused)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from chassis.contracts.training import ContractChanged
from chassis.domain import Forbidden, NotFound, RuleViolation
from chassis.events.catalogue import validate_payload
from chassis.messagebus import MessageBus
from chassis.principal import Principal
from training_records.domain.commands import (
    ApprenticeDetails,
    ChangeContract,
    CompanyDetails,
    ContractTerms,
    RegisterContract,
)
from training_records.domain.model import (
    ChangeKind,
    Company,
    Contract,
    ContractState,
    Occupation,
    TerminationReason,
    Trainer,
    add_months,
    check_duration,
    check_terms,
    months_between,
)
from training_records.domain.queries import GetContractHistory

A, B = "4711001", "4711002"
START = date(2026, 9, 1)
REGISTERED_ON = date(2026, 6, 15)  # the unit tests' "today"
STANDARD = 36
OCCUPATION = Occupation("78100", "Industriekaufmann/Industriekauffrau", duration_months=STANDARD)
WITH_SPECIALISMS = Occupation(
    "63100", "Fachinformatiker/-in", specialisms=["Anwendungsentwicklung", "Systemintegration"]
)
UNKNOWN_STANDARD = Occupation("99001", "Beruf ohne bekannte Regeldauer")


def term(months: int, start: date = START) -> date:
    """The last day of a term of ``months`` months from ``start``."""
    return add_months(start, months) - timedelta(days=1)


def new_contract(**overrides: Any) -> Contract:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "contract_number": "2026-000001",
        "company_number": A,
        "apprentice_id": uuid.uuid4(),
        "occupation_code": OCCUPATION.code,
        "start_date": START,
        "end_date": term(STANDARD),
        "registered_on": REGISTERED_ON,
        "probation_months": 4,
    }
    values.update(overrides)
    return Contract(**values)


def new_trainer(company_number: str = A, **overrides: Any) -> Trainer:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "company_number": company_number,
        "first_name": "Anna",
        "last_name": "Ausbilder",
        "email": f"anna.{uuid.uuid4().hex[:6]}@example.org",
        "qualified": True,
    }
    values.update(overrides)
    return Trainer(**values)


def refused(step: Callable[[], object]) -> set[str]:
    """The fields a refused step names."""
    with pytest.raises(RuleViolation) as caught:
        step()
    return {"/".join(path) for path in caught.value.errors}


def unchanged(contract: Contract, step: Callable[[], object]) -> set[str]:
    """Refuse the step and show that it left the contract as it was."""
    before = dataclasses.asdict(contract)
    fields = refused(step)
    assert dataclasses.asdict(contract) == before
    return fields


# -- month arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
        (date(2026, 9, 1), 36, date(2029, 9, 1)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # over the year's end
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # the month's last day where it is shorter
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # backwards
        (date(2026, 1, 15), -1, date(2025, 12, 15)),  # backwards over the year's start
        (date(2026, 1, 15), -25, date(2023, 12, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last_day(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (date(2026, 8, 1), date(2027, 7, 31), 12),  # a training year counts both its ends
        (date(2026, 9, 1), date(2029, 8, 31), 36),  # over a leap day
        (date(2026, 9, 1), date(2030, 2, 28), 42),
        (date(2026, 2, 1), date(2026, 2, 28), 1),  # a short month is still a month
        (date(2026, 8, 15), date(2027, 8, 14), 12),  # mid-month starts
        (date(2026, 6, 15), date(2026, 6, 15), 0),  # one day
        (date(2026, 8, 1), date(2026, 8, 14), 0),  # under half a month rounds down
        (date(2026, 8, 1), date(2026, 8, 16), 1),  # over half a month rounds up
        (date(2026, 8, 1), date(2032, 7, 31), 72),
    ],
)
def test_months_between_counts_whole_months_of_a_term(start: date, end: date, expected: int) -> None:
    assert months_between(start, end) == expected


@pytest.mark.parametrize("day", [1, 15, 28, 31])
@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_months_between_is_the_inverse_of_add_months_for_every_start(year: int, day: int) -> None:
    """Whatever the start (month end, leap year), a term of n months counts as n months."""
    for month in range(1, 13):
        try:
            start = date(year, month, day)
        except ValueError:
            continue
        for months in range(1, 80):
            assert months_between(start, term(months, start)) == months, (start, months)


# -- the terms (check_terms) ------------------------------------------------------------------------


def terms_errors(
    probation: int = 4, shortened: int = 0, specialism: str | None = None, occupation: Occupation = OCCUPATION
) -> set[str]:
    errors = check_terms(
        probation_months=probation,
        shortened_by_months=shortened,
        specialism=specialism,
        occupation=occupation,
    )
    return {"/".join((path,) if isinstance(path, str) else path) for path in errors}


@pytest.mark.parametrize("months, allowed", [(-1, False), (0, False), (1, True), (4, True), (5, False)])
def test_the_probation_period_lasts_one_to_four_months(months: int, allowed: bool) -> None:
    assert terms_errors(probation=months) == (set() if allowed else {"probation_months"})


@pytest.mark.parametrize("months, allowed", [(-1, False), (0, True), (12, True), (13, False)])
def test_a_shortening_is_zero_to_twelve_months(months: int, allowed: bool) -> None:
    assert terms_errors(shortened=months) == (set() if allowed else {"shortened_by_months"})


@pytest.mark.parametrize(
    "occupation, specialism, allowed",
    [
        (WITH_SPECIALISMS, "Systemintegration", True),
        (WITH_SPECIALISMS, None, False),  # required where the occupation has them
        (WITH_SPECIALISMS, "Datenanalyse", False),  # not one of its specialisms
        (OCCUPATION, None, True),
        (OCCUPATION, "Systemintegration", False),  # this occupation has none
    ],
)
def test_the_specialism_must_be_one_of_the_occupations(
    occupation: Occupation, specialism: str | None, allowed: bool
) -> None:
    assert terms_errors(specialism=specialism, occupation=occupation) == (
        set() if allowed else {"specialism"}
    )


def test_every_broken_term_is_named_at_once() -> None:
    assert terms_errors(probation=0, shortened=13, specialism=None, occupation=WITH_SPECIALISMS) == {
        "probation_months",
        "shortened_by_months",
        "specialism",
    }


# -- the duration (check_duration) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "months, part_time, shortened, allowed",
    [
        # full time: the standard, give or take a month
        (34, False, 0, False),
        (35, False, 0, True),
        (36, False, 0, True),
        (37, False, 0, True),
        (38, False, 0, False),
        # shortened: the standard less the shortening, give or take a month
        (28, False, 6, False),
        (29, False, 6, True),
        (30, False, 6, True),
        (31, False, 6, True),
        (32, False, 6, False),
        (36, False, 6, False),  # declared shortened, but lasts the full standard
        (24, False, 12, True),
        (22, False, 12, False),
        # part time (BBiG §7a): up to one and a half times the standard
        (34, True, 0, False),
        (35, True, 0, True),
        (48, True, 0, True),
        (54, True, 0, True),
        (55, True, 0, True),
        (56, True, 0, False),
        (29, True, 6, True),
        (28, True, 6, False),
    ],
)
def test_the_duration_against_the_occupations_standard(
    months: int, part_time: bool, shortened: int, allowed: bool
) -> None:
    def check() -> None:
        check_duration(START, term(months), OCCUPATION, part_time, shortened)

    if allowed:
        check()
    else:
        assert refused(check) == {"end_date"}


@pytest.mark.parametrize("months", [1, 12, 36, 71])
def test_an_unknown_standard_duration_is_not_checked(months: int) -> None:
    check_duration(START, term(months), UNKNOWN_STANDARD, False, 0)
    check_duration(START, term(months), UNKNOWN_STANDARD, True, 12, extension=True)


@pytest.mark.parametrize(
    "months, part_time, allowed",
    [
        (12, False, True),  # an extension has no lower limit
        (49, False, True),  # twelve months past the standard (and the month's tolerance)
        (50, False, False),
        (67, True, True),  # part time: twelve months past one and a half times the standard
        (68, True, False),
    ],
)
def test_an_extension_may_exceed_the_standard_by_twelve_months(
    months: int, part_time: bool, allowed: bool
) -> None:
    def check() -> None:
        check_duration(START, term(months), OCCUPATION, part_time, 0, extension=True)

    if allowed:
        check()
    else:
        assert refused(check) == {"end_date"}


# -- extension --------------------------------------------------------------------------------------


def test_an_extension_moves_the_end_date_and_says_from_where() -> None:
    contract = new_contract()
    details = contract.extend(term(42), OCCUPATION)
    assert details == {"previous_end_date": "2029-08-31", "end_date": "2030-02-28"}
    assert (contract.end_date, contract.state) == (term(42), ContractState.REGISTERED)


@pytest.mark.parametrize("new_end", [term(36), term(30), START])
def test_an_extension_must_end_after_the_current_end(new_end: date) -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.extend(new_end, OCCUPATION)) == {"end_date"}


def test_an_extension_may_go_twelve_months_past_the_standard_but_no_further() -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.extend(term(50), OCCUPATION)) == {"end_date"}
    contract.extend(term(49), OCCUPATION)
    assert contract.end_date == term(49)


def test_a_part_time_contract_extends_from_one_and_a_half_times_the_standard() -> None:
    contract = new_contract(part_time=True, end_date=term(54))
    assert unchanged(contract, lambda: contract.extend(term(68), OCCUPATION)) == {"end_date"}
    contract.extend(term(67), OCCUPATION)
    assert contract.end_date == term(67)


# -- shortening -------------------------------------------------------------------------------------


def test_a_shortening_moves_the_end_date_and_counts_the_months() -> None:
    contract = new_contract()
    details = contract.shorten(term(30), OCCUPATION)
    assert details == {"previous_end_date": "2029-08-31", "end_date": "2029-02-28"}
    assert (contract.end_date, contract.shortened_by_months) == (term(30), 6)


def test_shortenings_add_up_to_at_most_twelve_months() -> None:
    contract = new_contract()
    contract.shorten(term(30), OCCUPATION)
    contract.shorten(term(24), OCCUPATION)
    assert contract.shortened_by_months == 12
    assert unchanged(contract, lambda: contract.shorten(term(23), OCCUPATION)) == {"end_date"}


def test_a_shortening_agreed_at_registration_counts_too() -> None:
    contract = new_contract(shortened_by_months=6, end_date=term(30))
    assert unchanged(contract, lambda: contract.shorten(term(23), OCCUPATION)) == {"end_date"}
    contract.shorten(term(24), OCCUPATION)
    assert contract.shortened_by_months == 12


def test_more_than_twelve_months_at_once_is_refused() -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.shorten(term(23), OCCUPATION)) == {"end_date"}


@pytest.mark.parametrize("new_end", [term(36), term(40), START, START - timedelta(days=1)])
def test_a_shortening_must_end_before_the_current_end_and_after_the_start(new_end: date) -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.shorten(new_end, OCCUPATION)) == {"end_date"}


# -- interruption and resumption --------------------------------------------------------------------


@pytest.mark.parametrize("since", [START, date(2027, 3, 1), term(36)])
def test_an_interruption_within_the_term(since: date) -> None:
    contract = new_contract()
    assert contract.interrupt(since) == {"since": since.isoformat()}
    assert (contract.state, contract.interrupted_since) == (ContractState.INTERRUPTED, since)
    assert contract.state.is_running


@pytest.mark.parametrize("since", [START - timedelta(days=1), term(36) + timedelta(days=1)])
def test_an_interruption_outside_the_term_is_refused(since: date) -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.interrupt(since)) == {"effective_on"}


def test_an_interrupted_contract_cannot_be_interrupted_again() -> None:
    contract = new_contract()
    contract.interrupt(date(2027, 3, 1))
    assert unchanged(contract, lambda: contract.interrupt(date(2027, 4, 1))) == {"state"}


def test_resuming_returns_to_registered_and_keeps_the_end_date() -> None:
    contract = new_contract()
    contract.interrupt(date(2027, 3, 1))
    details = contract.resume(date(2027, 3, 1), None, OCCUPATION)  # the same day is allowed
    assert details == {"since": "2027-03-01"}
    assert (contract.state, contract.interrupted_since, contract.end_date) == (
        ContractState.REGISTERED,
        None,
        term(36),
    )


def test_resuming_may_move_the_end_date() -> None:
    contract = new_contract()
    contract.interrupt(date(2027, 3, 1))
    details = contract.resume(date(2027, 9, 1), term(42), OCCUPATION)
    assert details == {"since": "2027-03-01", "previous_end_date": "2029-08-31", "end_date": "2030-02-28"}
    assert (contract.state, contract.end_date) == (ContractState.REGISTERED, term(42))


def test_resuming_with_the_same_end_date_records_no_end_date() -> None:
    contract = new_contract()
    contract.interrupt(date(2027, 3, 1))
    assert contract.resume(date(2027, 4, 1), term(36), OCCUPATION) == {"since": "2027-03-01"}


@pytest.mark.parametrize(
    "on, new_end, field",
    [
        (date(2027, 2, 28), None, "effective_on"),  # before the interruption began
        (date(2027, 9, 1), date(2027, 9, 1), "end_date"),  # the new end is not after the resumption
        (date(2027, 9, 1), term(50), "end_date"),  # beyond what an extension allows
    ],
)
def test_a_resumption_breaking_a_rule_leaves_the_contract_interrupted(
    on: date, new_end: date | None, field: str
) -> None:
    contract = new_contract()
    contract.interrupt(date(2027, 3, 1))
    assert unchanged(contract, lambda: contract.resume(on, new_end, OCCUPATION)) == {field}
    assert contract.state is ContractState.INTERRUPTED


def test_only_an_interrupted_contract_can_be_resumed() -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.resume(date(2027, 3, 1), None, OCCUPATION)) == {"state"}


# -- the trainer ------------------------------------------------------------------------------------


def test_a_trainer_of_the_company_is_assigned_and_replaced() -> None:
    contract = new_contract()
    first, second = new_trainer(), new_trainer()
    assert contract.change_trainer(first) == {"previous_trainer_id": None, "trainer_id": str(first.id)}
    assert contract.change_trainer(second) == {
        "previous_trainer_id": str(first.id),
        "trainer_id": str(second.id),
    }
    assert contract.change_trainer(None) == {"previous_trainer_id": str(second.id), "trainer_id": None}
    assert contract.trainer_id is None


def test_a_trainer_of_another_company_is_refused() -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.change_trainer(new_trainer(B))) == {"trainer_id"}


def test_a_removed_trainer_is_refused() -> None:
    contract = new_contract()
    gone = new_trainer(removed_on=date(2026, 5, 1))
    assert unchanged(contract, lambda: contract.change_trainer(gone)) == {"trainer_id"}


def test_the_same_trainer_again_is_refused() -> None:
    trainer = new_trainer()
    contract = new_contract(trainer_id=trainer.id)
    assert unchanged(contract, lambda: contract.change_trainer(trainer)) == {"trainer_id"}
    without = new_contract()
    assert unchanged(without, lambda: without.change_trainer(None)) == {"trainer_id"}


# -- completion and early termination ---------------------------------------------------------------


@pytest.mark.parametrize("on", [START, term(36), term(40)])
def test_completion_ends_the_contract(on: date) -> None:
    contract = new_contract()
    assert contract.complete(on) == {"ended_on": on.isoformat()}
    assert (contract.state, contract.ended_on) == (ContractState.COMPLETED, on)
    assert not contract.state.is_running


def test_completion_before_the_start_is_refused() -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.complete(START - timedelta(days=1))) == {"effective_on"}


def test_completing_or_terminating_an_interrupted_contract_clears_the_interruption() -> None:
    completed, terminated = new_contract(), new_contract()
    for contract in (completed, terminated):
        contract.interrupt(date(2027, 3, 1))
    completed.complete(date(2027, 6, 30))
    terminated.terminate(date(2027, 6, 30), TerminationReason.MUTUAL)
    assert (completed.state, completed.interrupted_since) == (ContractState.COMPLETED, None)
    assert (terminated.state, terminated.interrupted_since) == (ContractState.TERMINATED, None)


@pytest.mark.parametrize(
    "probation, last_day",
    [(4, date(2026, 12, 31)), (1, date(2026, 9, 30)), (3, date(2026, 11, 30)), (None, date(2026, 12, 31))],
)
def test_termination_in_probation_only_within_the_probation_period(
    probation: int | None, last_day: date
) -> None:
    """BBiG §22 (1); an entry without a recorded probation period gets the longest, four months."""
    late = new_contract(probation_months=probation)
    assert unchanged(
        late, lambda: late.terminate(last_day + timedelta(days=1), TerminationReason.PROBATION)
    ) == {"reason"}
    early = new_contract(probation_months=probation)
    assert early.terminate(last_day, TerminationReason.PROBATION) == {
        "ended_on": last_day.isoformat(),
        "reason": "probation",
    }
    assert (early.state, early.ended_on, early.termination_reason) == (
        ContractState.TERMINATED,
        last_day,
        TerminationReason.PROBATION,
    )


def test_before_training_starts_it_is_not_yet_the_probation_period() -> None:
    contract = new_contract()
    before_start = START - timedelta(days=10)
    assert unchanged(contract, lambda: contract.terminate(before_start, TerminationReason.PROBATION)) == {
        "reason"
    }
    contract.terminate(
        before_start, TerminationReason.BY_APPRENTICE
    )  # other reasons may end it before it starts
    assert contract.state is ContractState.TERMINATED


@pytest.mark.parametrize("reason", [r for r in TerminationReason if r is not TerminationReason.PROBATION])
def test_other_reasons_end_the_contract_after_the_probation_period(reason: TerminationReason) -> None:
    contract = new_contract()
    contract.terminate(date(2028, 1, 31), reason)
    assert (contract.state, contract.termination_reason) == (ContractState.TERMINATED, reason)


@pytest.mark.parametrize(
    "on",
    [
        REGISTERED_ON - timedelta(days=1),  # before it was entered (and before it started)
        term(36) + timedelta(days=1),  # after the end: that is no early termination
    ],
)
def test_termination_outside_the_contracts_life_is_refused(on: date) -> None:
    contract = new_contract()
    assert unchanged(contract, lambda: contract.terminate(on, TerminationReason.MUTUAL)) == {"effective_on"}


def test_a_historic_entry_may_be_terminated_before_its_registration_date() -> None:
    """Entered late (after it started): the termination date only has to be within the term."""
    contract = new_contract(start_date=date(2025, 9, 1), end_date=term(36, date(2025, 9, 1)))
    contract.terminate(date(2026, 1, 15), TerminationReason.BY_COMPANY)
    assert contract.ended_on == date(2026, 1, 15)


def ended(how: str) -> Contract:
    contract = new_contract(trainer_id=uuid.uuid4())
    if how == "completed":
        contract.complete(term(36))
    else:
        contract.terminate(date(2027, 5, 31), TerminationReason.BY_COMPANY)
    return contract


STEPS: dict[str, Callable[[Contract], object]] = {
    "extend": lambda c: c.extend(term(40), OCCUPATION),
    "shorten": lambda c: c.shorten(term(30), OCCUPATION),
    "interrupt": lambda c: c.interrupt(date(2027, 3, 1)),
    "resume": lambda c: c.resume(date(2027, 3, 1), None, OCCUPATION),
    "change_trainer": lambda c: c.change_trainer(new_trainer()),
    "remove_trainer": lambda c: c.change_trainer(None),
    "complete": lambda c: c.complete(date(2029, 8, 31)),
    "terminate": lambda c: c.terminate(date(2027, 6, 30), TerminationReason.MUTUAL),
}


@pytest.mark.parametrize("how", ["completed", "terminated"])
@pytest.mark.parametrize("step", STEPS)
def test_an_ended_contract_refuses_every_change(how: str, step: str) -> None:
    contract = ended(how)
    assert unchanged(contract, lambda: STEPS[step](contract)) == {"state"}


# -- the use case through the message bus -----------------------------------------------------------


@pytest.fixture
def world(uow: Any) -> dict[str, Any]:
    """The occupations with their standard durations, a second company and trainers in both."""
    uow.occupations.get("78100").duration_months = 36
    uow.occupations.get("25400").duration_months = 42
    uow.companies.add(Company(B, "Beispiel Elektro KG", "azubi@beispiel.example"))
    trainers = {"a1": new_trainer(A), "a2": new_trainer(A), "b": new_trainer(B)}
    for trainer in trainers.values():
        uow.trainers.add(trainer)
    return trainers


@pytest.fixture
def clerk(principal: Callable[..., Principal]) -> Principal:
    return principal("chamber_clerk")


@pytest.fixture
def contract(uow: Any, bus: MessageBus[Any], clerk: Principal, world: dict[str, Trainer]) -> Contract:
    """A contract of company A in 78100 (36 months from 1 Sep 2026), probation 4 months, trainer a1."""
    registered = bus.handle(
        RegisterContract(
            principal=clerk,
            company=CompanyDetails(A),
            apprentice=ApprenticeDetails("Max", "Mustermann", date(2009, 3, 14), "max@example.org"),
            occupation_code="78100",
            start_date=START,
            end_date=term(36),
            terms=ContractTerms(probation_months=4, trainer_id=world["a1"].id),
        )
    )
    found: Contract = uow.contracts.get(registered.id)
    return found


def history(uow: Any, contract: Contract) -> list[Any]:
    return [c for c in uow.contract_changes.all() if c.contract_id == contract.id]


def changed_events(uow: Any) -> list[Any]:
    return uow.events_of(ContractChanged.TYPE)


def change(principal: Principal, contract: Contract, kind: ChangeKind, **values: Any) -> ChangeContract:
    return ChangeContract(principal=principal, contract_id=contract.id, kind=kind, **values)


def test_registration_opens_the_history_without_a_changed_event(uow: Any, contract: Contract) -> None:
    (entry,) = history(uow, contract)
    assert (entry.kind, entry.effective_on, entry.details) == (ChangeKind.REGISTERED, REGISTERED_ON, {})
    assert changed_events(uow) == []


# Each step, what leads up to it (as kwargs of ChangeContract), and the contract it leaves.
LIFE: dict[
    str, tuple[list[tuple[ChangeKind, dict[str, Any]]], ChangeKind, dict[str, Any], dict[str, Any]]
] = {
    "extended": (
        [],
        ChangeKind.EXTENDED,
        {"end_date": term(42)},
        {"state": "registered", "end_date": term(42)},
    ),
    "shortened": (
        [],
        ChangeKind.SHORTENED,
        {"end_date": term(30)},
        {"state": "registered", "end_date": term(30), "shortened_by_months": 6},
    ),
    "interrupted": (
        [],
        ChangeKind.INTERRUPTED,
        {"effective_on": date(2027, 3, 1)},
        {"state": "interrupted", "interrupted_since": date(2027, 3, 1)},
    ),
    "resumed": (
        [(ChangeKind.INTERRUPTED, {"effective_on": date(2027, 3, 1)})],
        ChangeKind.RESUMED,
        {"effective_on": date(2027, 9, 1), "end_date": term(42)},
        {"state": "registered", "interrupted_since": None, "end_date": term(42)},
    ),
    "trainer_changed": (
        [],
        ChangeKind.TRAINER_CHANGED,
        {"trainer": "a2"},
        {"state": "registered", "trainer": "a2"},
    ),
    "trainer_removed": (
        [],
        ChangeKind.TRAINER_CHANGED,
        {"trainer_id": None},
        {"state": "registered", "trainer_id": None},
    ),
    "completed": (
        [],
        ChangeKind.COMPLETED,
        {"effective_on": date(2029, 6, 20)},
        {"state": "completed", "ended_on": date(2029, 6, 20)},
    ),
    "terminated_in_probation": (
        [],
        ChangeKind.TERMINATED,
        {"effective_on": date(2026, 10, 15), "reason": TerminationReason.PROBATION},
        {
            "state": "terminated",
            "ended_on": date(2026, 10, 15),
            "termination_reason": TerminationReason.PROBATION,
        },
    ),
    "terminated_while_interrupted": (
        [(ChangeKind.INTERRUPTED, {"effective_on": date(2027, 3, 1)})],
        ChangeKind.TERMINATED,
        {"effective_on": date(2027, 5, 31), "reason": TerminationReason.BY_APPRENTICE},
        {
            "state": "terminated",
            "interrupted_since": None,
            "termination_reason": TerminationReason.BY_APPRENTICE,
        },
    ),
}


def _resolve(values: dict[str, Any], trainers: dict[str, Trainer]) -> dict[str, Any]:
    resolved = dict(values)
    if "trainer" in resolved:
        resolved["trainer_id"] = trainers[resolved.pop("trainer")].id
    return resolved


@pytest.mark.parametrize("case", LIFE)
def test_each_step_is_recorded_in_the_history_and_announced_with_the_state_after_it(
    uow: Any,
    bus: MessageBus[Any],
    clerk: Principal,
    contract: Contract,
    world: dict[str, Trainer],
    case: str,
) -> None:
    before_steps, kind, values, after = LIFE[case]
    for earlier_kind, earlier in before_steps:
        bus.handle(change(clerk, contract, earlier_kind, **earlier))
    entries, events = len(history(uow, contract)), len(changed_events(uow))

    result = bus.handle(change(clerk, contract, kind, **_resolve(values, world)))

    assert result is contract
    expected = _resolve(after, world)
    for name, value in expected.items():
        actual = getattr(contract, name)
        assert (actual.value if name == "state" else actual) == value, name

    new_entries = history(uow, contract)[entries:]
    assert len(new_entries) == 1
    entry = new_entries[0]
    assert (entry.kind, entry.recorded_by) == (kind, clerk.subject)
    assert entry.effective_on == values.get("effective_on", REGISTERED_ON)

    new_events = changed_events(uow)[events:]
    assert len(new_events) == 1
    event = new_events[0]
    assert event.subject == str(contract.id)
    payload = validate_payload(event.type, event.version, event.payload)  # the catalogue's contract
    assert payload["change"] == kind.value
    assert payload["effective_on"] == entry.effective_on
    assert payload["state"] == contract.state.value  # the state after the step
    assert (payload["start_date"], payload["end_date"]) == (contract.start_date, contract.end_date)
    assert payload["trainer_id"] == contract.trainer_id
    assert payload["termination_reason"] == (
        contract.termination_reason.value if contract.termination_reason else None
    )
    assert payload["contract_number"] == contract.contract_number


def test_the_history_records_what_changed_and_the_note(
    uow: Any, bus: MessageBus[Any], clerk: Principal, contract: Contract
) -> None:
    bus.handle(
        change(clerk, contract, ChangeKind.EXTENDED, end_date=term(42), note="Prüfung nicht bestanden")
    )
    entry = history(uow, contract)[-1]
    assert entry.details == {
        "previous_end_date": "2029-08-31",
        "end_date": "2030-02-28",
        "note": "Prüfung nicht bestanden",
    }


def test_the_step_takes_effect_today_unless_a_day_is_given(
    uow: Any, bus: MessageBus[Any], clerk: Principal, contract: Contract, today: date
) -> None:
    bus.handle(change(clerk, contract, ChangeKind.TERMINATED, reason=TerminationReason.MUTUAL))
    assert (contract.ended_on, history(uow, contract)[-1].effective_on) == (today, today)


def test_the_contract_history_query_answers_every_step_for_whom_may_see_it(
    bus: MessageBus[Any], clerk: Principal, contract: Contract, principal: Callable[..., Principal]
) -> None:
    bus.handle(change(clerk, contract, ChangeKind.INTERRUPTED, effective_on=date(2027, 3, 1)))
    bus.handle(change(clerk, contract, ChangeKind.RESUMED, effective_on=date(2027, 6, 1)))
    kinds = [
        entry.kind
        for entry in bus.handle(GetContractHistory(principal(company_roles={A: ["manager"]}), contract.id))
    ]
    assert sorted(kinds) == sorted([ChangeKind.REGISTERED, ChangeKind.INTERRUPTED, ChangeKind.RESUMED])
    with pytest.raises(NotFound):
        bus.handle(GetContractHistory(principal(company_roles={B: ["admin"]}), contract.id))


# Refused steps: the command (as kwargs) and the field the problem names.
REFUSED: dict[str, tuple[ChangeKind, dict[str, Any], str]] = {
    "extension_not_later": (ChangeKind.EXTENDED, {"end_date": term(30)}, "end_date"),
    "extension_too_long": (ChangeKind.EXTENDED, {"end_date": term(50)}, "end_date"),
    "extension_without_end": (ChangeKind.EXTENDED, {}, "end_date"),
    "shortening_by_13": (ChangeKind.SHORTENED, {"end_date": term(23)}, "end_date"),
    "shortening_without_end": (ChangeKind.SHORTENED, {}, "end_date"),
    "interruption_before_start": (ChangeKind.INTERRUPTED, {"effective_on": date(2026, 8, 1)}, "effective_on"),
    "resumption_not_interrupted": (ChangeKind.RESUMED, {"effective_on": date(2027, 3, 1)}, "state"),
    "trainer_of_company_b": (ChangeKind.TRAINER_CHANGED, {"trainer": "b"}, "trainer_id"),
    "unknown_trainer": (ChangeKind.TRAINER_CHANGED, {"trainer_id": uuid.uuid4()}, "trainer_id"),
    "same_trainer": (ChangeKind.TRAINER_CHANGED, {"trainer": "a1"}, "trainer_id"),
    "completion_before_start": (ChangeKind.COMPLETED, {"effective_on": date(2026, 8, 31)}, "effective_on"),
    "termination_without_reason": (ChangeKind.TERMINATED, {"effective_on": date(2027, 1, 15)}, "reason"),
    "probation_over": (
        ChangeKind.TERMINATED,
        {"effective_on": date(2027, 1, 1), "reason": TerminationReason.PROBATION},
        "reason",
    ),
    "termination_after_end": (
        ChangeKind.TERMINATED,
        {"effective_on": term(36) + timedelta(days=1), "reason": TerminationReason.MUTUAL},
        "effective_on",
    ),
    "registered_by_hand": (ChangeKind.REGISTERED, {}, "kind"),
    "corrected_by_hand": (ChangeKind.DETAILS_CORRECTED, {}, "kind"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_step_writes_nothing(
    uow: Any,
    bus: MessageBus[Any],
    clerk: Principal,
    contract: Contract,
    world: dict[str, Trainer],
    case: str,
) -> None:
    kind, values, field = REFUSED[case]
    before, entries, events, commits = (
        dataclasses.asdict(contract),
        len(uow.contract_changes),
        len(uow.events),
        uow.commits,
    )
    with pytest.raises(RuleViolation) as caught:
        bus.handle(change(clerk, contract, kind, **_resolve(values, world)))
    assert set(caught.value.errors) == {(field,)}
    assert dataclasses.asdict(contract) == before
    assert (len(uow.contract_changes), len(uow.events), uow.commits) == (entries, events, commits)


def test_an_ended_contract_refuses_further_steps_through_the_bus(
    uow: Any, bus: MessageBus[Any], clerk: Principal, contract: Contract
) -> None:
    bus.handle(change(clerk, contract, ChangeKind.COMPLETED, effective_on=date(2029, 6, 20)))
    entries, events = len(uow.contract_changes), len(uow.events)
    with pytest.raises(RuleViolation) as caught:
        bus.handle(change(clerk, contract, ChangeKind.EXTENDED, end_date=term(40)))
    assert set(caught.value.errors) == {("state",)}
    assert (len(uow.contract_changes), len(uow.events)) == (entries, events)


ACTING_FOR_A: dict[str, Any] = {
    "act": {"sub": "deputy-1"},
    "acting_for": {"kind": "company", "company_number": A},
}
# Who may enter which step: (claims, kind, expected outcome: None = allowed, or the error).
WHO: dict[str, tuple[dict[str, Any], ChangeKind, type[Exception] | None]] = {
    "clerk_extends": ({"roles": ["chamber_clerk"]}, ChangeKind.EXTENDED, None),
    "chamber_admin_extends": ({"roles": ["chamber_admin"]}, ChangeKind.EXTENDED, None),
    "exam_organiser_extends": ({"roles": ["chamber_exam_organiser"]}, ChangeKind.EXTENDED, Forbidden),
    "company_admin_changes_trainer": ({"company_roles": {A: ["admin"]}}, ChangeKind.TRAINER_CHANGED, None),
    "company_manager_changes_trainer": (
        {"company_roles": {A: ["manager"]}},
        ChangeKind.TRAINER_CHANGED,
        None,
    ),
    "company_admin_extends": ({"company_roles": {A: ["admin"]}}, ChangeKind.EXTENDED, Forbidden),
    "company_admin_terminates": ({"company_roles": {A: ["admin"]}}, ChangeKind.TERMINATED, Forbidden),
    "company_trainer_changes_trainer": (
        {"company_roles": {A: ["trainer"]}},
        ChangeKind.TRAINER_CHANGED,
        NotFound,
    ),
    "other_company_changes_trainer": (
        {"company_roles": {B: ["admin"]}},
        ChangeKind.TRAINER_CHANGED,
        NotFound,
    ),
    "other_company_extends": ({"company_roles": {B: ["admin"]}}, ChangeKind.EXTENDED, NotFound),
    "examiner_extends": ({"roles": ["examiner"]}, ChangeKind.EXTENDED, NotFound),
    # A deputy acting for company A (RFC 8693 ``act``) holds A's delegated role there, nothing at B.
    "deputy_for_a_changes_trainer": (
        {"company_roles": {A: ["manager"]}, **ACTING_FOR_A},
        ChangeKind.TRAINER_CHANGED,
        None,
    ),
    "deputy_for_b_changes_trainer": (
        {
            "company_roles": {B: ["manager"]},
            "act": {"sub": "deputy-1"},
            "acting_for": {"kind": "company", "company_number": B},
        },
        ChangeKind.TRAINER_CHANGED,
        NotFound,
    ),
}
VALUES = {
    ChangeKind.EXTENDED: {"end_date": term(40)},
    ChangeKind.TRAINER_CHANGED: {"trainer": "a2"},
    ChangeKind.TERMINATED: {"effective_on": date(2027, 1, 15), "reason": TerminationReason.MUTUAL},
}


@pytest.mark.parametrize("case", WHO)
def test_who_may_enter_which_step(
    uow: Any,
    bus: MessageBus[Any],
    contract: Contract,
    world: dict[str, Trainer],
    principal: Callable[..., Principal],
    case: str,
) -> None:
    claims, kind, error = WHO[case]
    actor = principal(**claims)
    command = change(actor, contract, kind, **_resolve(VALUES[kind], world))
    entries, events = len(uow.contract_changes), len(uow.events)
    if error is None:
        bus.handle(command)
        # Acting for someone is recorded as such: "<deputy> for <company>".
        expected_by = f"deputy-1 for {A}" if actor.is_acting_for_someone else actor.subject
        assert history(uow, contract)[-1].recorded_by == expected_by
        assert len(uow.events) == events + 1
        return
    with pytest.raises(error):
        bus.handle(command)
    assert (len(uow.contract_changes), len(uow.events)) == (entries, events)
    assert contract.trainer_id == world["a1"].id and contract.state is ContractState.REGISTERED


def test_apprentices_see_their_contract_but_cannot_change_it(
    uow: Any, bus: MessageBus[Any], contract: Contract, principal: Callable[..., Principal]
) -> None:
    uow.apprentices.get(contract.apprentice_id).assign_number("20260077")
    own = principal("apprentice", apprentice_number="20260077")
    other = principal("apprentice", apprentice_number="20260078")
    assert len(bus.handle(GetContractHistory(own, contract.id))) == 1
    with pytest.raises(Forbidden):
        bus.handle(change(own, contract, ChangeKind.EXTENDED, end_date=term(40)))
    with pytest.raises(NotFound):
        bus.handle(change(other, contract, ChangeKind.EXTENDED, end_date=term(40)))


def test_an_unknown_contract_is_not_found(bus: MessageBus[Any], clerk: Principal) -> None:
    with pytest.raises(NotFound):
        bus.handle(ChangeContract(clerk, uuid.uuid4(), ChangeKind.EXTENDED, end_date=term(40)))

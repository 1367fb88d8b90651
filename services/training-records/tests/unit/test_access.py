"""Who may register, and who sees which contracts and companies, decided from the token's claims."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import pytest

from chassis.domain import Forbidden, NotFound
from chassis.principal import Principal
from training_records.domain.access import (
    CompanyVisibility,
    ContractVisibility,
    check_may_register,
    visible_contract,
)
from training_records.domain.model import AccountState, ContractState
from training_records.domain.queries import (
    ApprenticeView,
    CompanyRef,
    ConfirmationReceipts,
    ContractTermsView,
    ContractView,
    OccupationRef,
)

A, B = "4711001", "4711002"


@pytest.mark.parametrize("role", ["chamber_clerk", "chamber_exam_organiser", "chamber_admin"])
def test_chamber_staff_see_every_contract(principal: Callable[..., Principal], role: str) -> None:
    visibility = ContractVisibility.of(principal(role))
    assert visibility.allows(A, None) and visibility.allows(B, "20260001")
    assert CompanyVisibility.of(principal(role)).everything


@pytest.mark.parametrize(
    "company_roles, sees_a",
    [(["admin"], True), (["manager"], True), (["trainer"], False), (["admin", "trainer"], True)],
)
def test_company_administrators_and_managers_see_their_companies_contracts(
    principal: Callable[..., Principal], company_roles: list[str], sees_a: bool
) -> None:
    visibility = ContractVisibility.of(principal(company_roles={A: company_roles}))
    assert visibility.allows(A, None) is sees_a
    assert visibility.nothing is not sees_a
    assert not visibility.allows(B, None)


def test_every_company_role_sees_its_company_but_no_other(principal: Callable[..., Principal]) -> None:
    visibility = CompanyVisibility.of(principal(company_roles={A: ["trainer"]}))
    assert (visibility.everything, visibility.company_numbers) == (False, frozenset({A}))


def test_apprentices_see_only_their_own_contracts(principal: Callable[..., Principal]) -> None:
    visibility = ContractVisibility.of(principal("apprentice", apprentice_number="20260001"))
    assert visibility.allows(A, "20260001")
    assert not visibility.allows(A, "20260002")
    assert not visibility.allows(A, None)
    assert (
        CompanyVisibility.of(principal("apprentice", apprentice_number="20260001")).company_numbers
        == frozenset()
    )


def test_roles_combine(principal: Callable[..., Principal]) -> None:
    visibility = ContractVisibility.of(
        principal(company_roles={B: ["manager"]}, apprentice_number="20260001")
    )
    assert visibility.allows(B, None) and visibility.allows(A, "20260001")
    assert not visibility.allows(A, None)


def test_examiners_and_people_without_roles_see_nothing(principal: Callable[..., Principal]) -> None:
    assert ContractVisibility.of(principal("examiner")).nothing
    assert ContractVisibility.of(principal()).nothing
    assert CompanyVisibility.of(principal("examiner")).nothing


@pytest.mark.parametrize("role", ["chamber_clerk", "chamber_admin"])
def test_clerks_and_chamber_administrators_may_register(
    principal: Callable[..., Principal], role: str
) -> None:
    check_may_register(principal(role))


@pytest.mark.parametrize(
    "roles, claims",
    [
        (("chamber_exam_organiser",), {}),
        ((), {"company_roles": {A: ["admin", "manager"]}}),
        (("apprentice",), {"apprentice_number": "20260001"}),
        (("examiner",), {}),
    ],
)
def test_nobody_else_may_register(
    principal: Callable[..., Principal], roles: tuple[str, ...], claims: dict[str, object]
) -> None:
    with pytest.raises(Forbidden):
        check_may_register(principal(*roles, **claims))


def _view(company_number: str, apprentice_number: str | None) -> ContractView:
    return ContractView(
        id=uuid.uuid4(),
        contract_number="2026-000001",
        state=ContractState.REGISTERED,
        registered_on=date(2026, 6, 15),
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
        occupation=OccupationRef("25400", "Industriemechaniker/-in"),
        company=CompanyRef(company_number, "Muster Maschinenbau GmbH"),
        apprentice=ApprenticeView(
            "Max",
            "Mustermann",
            date(2009, 3, 14),
            "m@example.org",
            apprentice_number,
            AccountState.NONE,
            None,
        ),
        confirmation_opened_at=ConfirmationReceipts(None, None),
        terms=ContractTermsView(None, 4, False, 0),
        trainer=None,
        interrupted_since=None,
        ended_on=None,
        termination_reason=None,
        head_office_number=None,
    )


def test_one_contract_is_shown_only_to_whom_it_is_visible(principal: Callable[..., Principal]) -> None:
    contract = _view(A, "20260001")
    assert visible_contract(principal(company_roles={A: ["manager"]}), contract) is contract
    assert visible_contract(principal("apprentice", apprentice_number="20260001"), contract) is contract
    for stranger in (principal(company_roles={B: ["admin"]}), principal(company_roles={A: ["trainer"]})):
        with pytest.raises(NotFound):
            visible_contract(stranger, contract)


def test_an_unknown_contract_is_the_same_not_found(principal: Callable[..., Principal]) -> None:
    with pytest.raises(NotFound) as unknown:
        visible_contract(principal("chamber_clerk"), None)
    with pytest.raises(NotFound) as invisible:
        visible_contract(principal("examiner"), _view(A, None))
    assert unknown.value.detail == invisible.value.detail

"""Who sees which contracts and companies, decided from the token's claims."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chassis.auth import Principal
from training_records.service_layer.access import CompanyVisibility, ContractVisibility

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

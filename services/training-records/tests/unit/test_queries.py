"""The read side against fakes: what each caller sees, and keyset pages without gaps or repeats."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from chassis.domain import NotFound
from chassis.messagebus import MessageBus
from chassis.pagination import PageRequest
from chassis.principal import Principal
from training_records.domain.commands import ApprenticeDetails, CompanyDetails, RegisterContract
from training_records.domain.model import AccountState, ApprenticeAccount, Company, Contract
from training_records.domain.queries import (
    ContractFilters,
    GetContract,
    ListCompanies,
    ListContracts,
    ListOccupations,
)

A, B = "4711001", "4711002"


@pytest.fixture
def register(uow: Any, bus: MessageBus[Any], principal: Callable[..., Principal]) -> Callable[..., Contract]:
    clerk = principal("chamber_clerk")
    uow.companies.add(Company(B, "Beispiel Elektro KG", "azubi@beispiel.example"))

    def make(company: str = A, occupation: str = "25400", registered_on: date | None = None) -> Contract:
        contract: Contract = bus.handle(
            RegisterContract(
                principal=clerk,
                company=CompanyDetails(company),
                apprentice=ApprenticeDetails("Max", "Mustermann", date(2009, 3, 14), "m@example.org"),
                occupation_code=occupation,
                start_date=date(2026, 9, 1),
                end_date=date(2029, 8, 31),
                registered_on=registered_on,
            )
        )
        return contract

    return make


def ids(bus: MessageBus[Any], principal: Principal, **filters: str) -> list[uuid.UUID]:
    page = bus.handle(ListContracts(principal, PageRequest(limit=100), ContractFilters(**filters)))
    return [view.id for view in page.items]


def test_each_caller_lists_what_they_may_see(
    uow: Any, bus: MessageBus[Any], register: Callable[..., Contract], principal: Callable[..., Principal]
) -> None:
    a, b = register(A), register(B)
    uow.apprentices.get(b.apprentice_id).assign_number("20260002")

    assert set(ids(bus, principal("chamber_exam_organiser"))) == {a.id, b.id}
    assert ids(bus, principal(company_roles={A: ["manager"]})) == [a.id]
    assert ids(bus, principal("apprentice", apprentice_number="20260002")) == [b.id]
    assert ids(bus, principal(company_roles={A: ["trainer"]})) == []
    assert ids(bus, principal("examiner")) == []


def test_filters_narrow_but_never_widen(
    bus: MessageBus[Any], register: Callable[..., Contract], principal: Callable[..., Principal]
) -> None:
    a, b = register(A), register(B, occupation="78100")
    clerk = principal("chamber_clerk")
    assert ids(bus, clerk, company_number=B) == [b.id]
    assert ids(bus, clerk, occupation_code="25400") == [a.id]
    assert ids(bus, principal(company_roles={A: ["admin"]}), company_number=B) == []


def test_contracts_page_newest_registration_first_without_gaps_or_repeats(
    bus: MessageBus[Any], register: Callable[..., Contract], principal: Callable[..., Principal]
) -> None:
    registered = [register(registered_on=date(2026, 6, day)) for day in (3, 1, 3, 2, 1, 3, 2)]
    clerk = principal("chamber_clerk")
    seen = []
    cursor = None
    while True:
        page = bus.handle(ListContracts(clerk, PageRequest(cursor=cursor, limit=3)))
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(v.id for v in seen) == sorted(c.id for c in registered)
    assert len(seen) == 7
    keys = [(v.registered_on, v.contract_number) for v in seen]
    assert keys == sorted(keys, reverse=True)


def test_one_contract_shows_account_state_and_is_not_found_for_strangers(
    uow: Any, bus: MessageBus[Any], register: Callable[..., Contract], principal: Callable[..., Principal]
) -> None:
    contract = register(A)
    uow.apprentices.get(contract.apprentice_id).assign_number("20260077")
    uow.accounts.add(ApprenticeAccount("20260077", uuid.uuid4(), AccountState.PREPARED))

    view = bus.handle(GetContract(principal(company_roles={A: ["admin"]}), contract.id))
    assert (view.apprentice.apprentice_number, view.apprentice.account_state) == (
        "20260077",
        AccountState.PREPARED,
    )
    with pytest.raises(NotFound):
        bus.handle(GetContract(principal(company_roles={B: ["admin"]}), contract.id))
    with pytest.raises(NotFound):
        bus.handle(GetContract(principal("chamber_clerk"), uuid.uuid4()))


def test_companies_by_name_for_whom_may_see_them(
    bus: MessageBus[Any], register: Callable[..., Contract], principal: Callable[..., Principal]
) -> None:
    everyone = bus.handle(ListCompanies(principal("chamber_clerk"), PageRequest(limit=1)))
    assert [c.name for c in everyone.items] == ["Beispiel Elektro KG"]
    rest = bus.handle(ListCompanies(principal("chamber_clerk"), PageRequest(everyone.next_cursor, 1)))
    assert ([c.company_number for c in rest.items], rest.next_cursor) == ([A], None)

    trainer = bus.handle(ListCompanies(principal(company_roles={A: ["trainer"]}), PageRequest()))
    assert [c.company_number for c in trainer.items] == [A]
    assert bus.handle(ListCompanies(principal("apprentice"), PageRequest())).items == ()


def test_occupations_by_title(bus: MessageBus[Any]) -> None:
    page = bus.handle(ListOccupations(PageRequest(limit=1)))
    assert [o.code for o in page.items] == ["78100"]  # Industriekaufmann before Industriemechaniker
    rest = bus.handle(ListOccupations(PageRequest(cursor=page.next_cursor, limit=1)))
    assert ([o.code for o in rest.items], rest.next_cursor) == (["25400"], None)

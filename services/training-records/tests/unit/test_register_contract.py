"""The "register contract" use case against fakes, through the message bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from chassis.contracts.training import ContractRegistered
from chassis.domain import Forbidden, RuleViolation
from chassis.events.catalogue import validate_payload
from chassis.messagebus import MessageBus
from chassis.principal import Principal
from training_records.domain.commands import ApprenticeDetails, CompanyDetails, RegisterContract
from training_records.domain.model import ContractState


def command(body: dict[str, Any], principal: Principal) -> RegisterContract:
    """The command the API builds from a request body (dates already parsed)."""
    apprentice = dict(body["apprentice"])
    apprentice["birth_date"] = date.fromisoformat(apprentice["birth_date"])
    registered_on = body.get("registered_on")
    return RegisterContract(
        principal=principal,
        company=CompanyDetails(**body["company"]),
        apprentice=ApprenticeDetails(**apprentice),
        occupation_code=body["occupation_code"],
        start_date=date.fromisoformat(body["start_date"]),
        end_date=date.fromisoformat(body["end_date"]),
        registered_on=date.fromisoformat(registered_on) if registered_on else None,
    )


@pytest.fixture
def clerk(principal: Callable[..., Principal]) -> Principal:
    return principal("chamber_clerk")


def assert_nothing_written(uow: Any) -> None:
    assert uow.events == []
    assert uow.contracts.all() == []
    assert uow.apprentices.all() == []
    assert [c.company_number for c in uow.companies.all()] == ["4711001"]
    assert uow.contract_numbers.values == {}


def test_registering_stores_the_contract_and_emits_exactly_one_valid_event(
    uow: Any,
    bus: MessageBus[Any],
    clerk: Principal,
    today: date,
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    result = bus.handle(command(registration_body(), clerk))

    contract = uow.contracts.get(result.id)
    assert contract.state is ContractState.REGISTERED
    assert contract.registered_on == today
    assert contract.contract_number == result.contract_number == "2026-000001"
    assert contract.registered_by == clerk.subject
    apprentice = uow.apprentices.get(contract.apprentice_id)
    assert (apprentice.first_name, apprentice.birth_date) == ("Max", date(2009, 3, 14))
    assert apprentice.apprentice_number is None

    assert len(uow.events) == 1
    event = uow.events[0]
    assert event.type == ContractRegistered.TYPE
    assert event.subject == str(contract.id)
    loaded = validate_payload(event.type, event.version, event.payload)
    assert str(loaded["contract_id"]) == str(contract.id)
    assert loaded["contract_number"] == "2026-000001"
    assert loaded["occupation"] == {"code": "25400", "title": "Industriemechaniker/-in"}
    assert loaded["company"]["email"] == "ausbildung@muster-maschinenbau.example"
    assert loaded["apprentice"]["email"] == "max.mustermann@example.org"


def test_numbers_run_per_year_of_registration(
    uow: Any, bus: MessageBus[Any], clerk: Principal, registration_body: Callable[..., dict[str, Any]]
) -> None:
    numbers = [
        bus.handle(command(registration_body(), clerk)).contract_number,
        bus.handle(
            command(
                registration_body(
                    registered_on="2016-07-01",
                    start_date="2016-08-01",
                    end_date="2019-07-31",
                    apprentice={
                        "first_name": "Jonas",
                        "last_name": "Früher",
                        "birth_date": "2000-01-31",
                        "email": "jonas@example.org",
                    },
                ),
                clerk,
            )
        ).contract_number,
        bus.handle(command(registration_body(), clerk)).contract_number,
    ]
    assert numbers == ["2026-000001", "2016-000001", "2026-000002"]


def test_unknown_company_is_created_from_the_given_data(
    uow: Any, bus: MessageBus[Any], clerk: Principal, registration_body: Callable[..., dict[str, Any]]
) -> None:
    company = {"company_number": "5000123", "name": "Neu GmbH", "email": "azubi@neu.example", "city": "Fulda"}
    result = bus.handle(command(registration_body(company=company), clerk))
    stored = uow.companies.get("5000123")
    assert (stored.name, stored.city, stored.street) == ("Neu GmbH", "Fulda", None)
    assert uow.contracts.get(result.id).company_number == "5000123"
    assert uow.events_of("training.contract.registered")[0].payload["company"]["name"] == "Neu GmbH"
    # A company new to the register is announced too, in the same commit.
    assert uow.events_of("training.company.registered")[0].payload["name"] == "Neu GmbH"


def test_unknown_company_without_name_and_email_is_refused(
    uow: Any, bus: MessageBus[Any], clerk: Principal, registration_body: Callable[..., dict[str, Any]]
) -> None:
    with pytest.raises(RuleViolation) as caught:
        bus.handle(command(registration_body(company={"company_number": "5000123"}), clerk))
    assert set(caught.value.errors) == {("company", "name"), ("company", "email")}
    assert_nothing_written(uow)


def test_known_company_details_must_match_the_register(
    uow: Any, bus: MessageBus[Any], clerk: Principal, registration_body: Callable[..., dict[str, Any]]
) -> None:
    same = {
        "company_number": "4711001",
        "name": "Muster Maschinenbau GmbH",
        "email": "AUSBILDUNG@muster-maschinenbau.example",
    }
    bus.handle(command(registration_body(company=same), clerk))
    published = len(uow.events)

    other = {"company_number": "4711001", "name": "Muster AG", "city": "Fulda"}
    with pytest.raises(RuleViolation) as caught:
        bus.handle(command(registration_body(company=other), clerk))
    assert set(caught.value.errors) == {("company", "name"), ("company", "city")}
    assert uow.companies.get("4711001").name == "Muster Maschinenbau GmbH"
    assert len(uow.events) == published


def test_unknown_occupation_and_broken_rules_are_reported_together_and_nothing_is_written(
    uow: Any, bus: MessageBus[Any], clerk: Principal, registration_body: Callable[..., dict[str, Any]]
) -> None:
    body = registration_body(occupation_code="99999", end_date="2026-08-01")
    with pytest.raises(RuleViolation) as caught:
        bus.handle(command(body, clerk))
    assert set(caught.value.errors) == {("occupation_code",), ("end_date",)}
    assert_nothing_written(uow)


def test_chamber_administrator_may_register(
    uow: Any,
    bus: MessageBus[Any],
    principal: Callable[..., Principal],
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    bus.handle(command(registration_body(), principal("chamber_admin")))
    assert len(uow.events) == 1


@pytest.mark.parametrize(
    "roles, claims",
    [
        (("chamber_exam_organiser",), {}),
        ((), {"company_roles": {"4711001": ["admin", "manager"]}}),
        (("apprentice",), {"apprentice_number": "20260001"}),
        (("examiner",), {}),
    ],
)
def test_others_may_not_register(
    uow: Any,
    bus: MessageBus[Any],
    principal: Callable[..., Principal],
    registration_body: Callable[..., dict[str, Any]],
    roles: tuple[str, ...],
    claims: dict[str, Any],
) -> None:
    with pytest.raises(Forbidden):
        bus.handle(command(registration_body(), principal(*roles, **claims)))
    assert_nothing_written(uow)

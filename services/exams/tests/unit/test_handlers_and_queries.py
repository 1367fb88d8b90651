"""Handlers and queries against fakes: no database, no broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Set
from typing import Any

import pytest

from chassis.domain import Forbidden
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus
from chassis.pagination import Page, PageRequest
from chassis.principal import Principal
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from exams.adapters.repository import CONTRACT_ORDER
from exams.domain.model import RegisteredContract
from exams.domain.queries import ListRegisteredContracts
from exams.service_layer import handlers


class FakeRegisteredContracts(FakeRepository[RegisteredContract]):
    def page_for_companies(
        self, companies: Set[str] | None, request: PageRequest
    ) -> Page[RegisteredContract]:
        return self.page(
            lambda c: companies is None or c.company_number in companies, CONTRACT_ORDER, request
        )


def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(contracts=FakeRegisteredContracts(key="contract_id"))


def list_for(uow: FakeUnitOfWork, principal: Principal, limit: int = 50) -> Page[RegisteredContract]:
    bus = MessageBus(lambda: uow, consumer_name="exams", command_handlers=handlers.COMMAND_HANDLERS)  # type: ignore[arg-type, return-value]
    return bus.handle(ListRegisteredContracts(principal, PageRequest(limit=limit)))


def incoming(payload: dict[str, Any]) -> IncomingEvent:
    envelope = new_envelope(
        producer="training-records",
        event_type="training.contract.registered",
        subject=payload["contract_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, load_payload(envelope.type, 1, payload))


def test_registered_contract_enters_the_read_model(contract_payload: Callable[..., dict]) -> None:
    uow = fake_uow()
    payload = contract_payload()
    handlers.contract_registered(incoming(payload), uow)
    stored = uow.contracts.get(payload["contract_id"])
    assert stored is not None
    assert stored.apprentice_name == "Lena Lernwillig"
    assert stored.occupation_code == "78100"
    assert stored.start_date.isoformat() == "2026-09-01"


def test_same_contract_twice_is_kept_once(contract_payload: Callable[..., dict]) -> None:
    uow = fake_uow()
    payload = contract_payload()
    handlers.contract_registered(incoming(payload), uow)
    handlers.contract_registered(incoming(payload), uow)  # new event id, same contract
    assert list(uow.contracts.items) == [payload["contract_id"]]
    assert uow.commits == 1


def _fill(uow: FakeUnitOfWork, contract_payload: Callable[..., dict]) -> None:
    for company in ("A", "A", "B"):
        handlers.contract_registered(incoming(contract_payload(company_number=company)), uow)


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (Principal(subject=str(uuid.uuid4()), roles=frozenset({"chamber_exam_organiser"})), 3),
        (Principal(subject=str(uuid.uuid4()), company_roles={"A": frozenset({"admin"})}), 2),
        (Principal(subject=str(uuid.uuid4()), company_roles={"B": frozenset({"manager"})}), 1),
    ],
)
def test_queries_show_what_the_caller_may_see(
    contract_payload: Callable[..., dict], principal: Principal, expected: int
) -> None:
    uow = fake_uow()
    _fill(uow, contract_payload)
    assert len(list_for(uow, principal).items) == expected


def test_trainers_do_not_see_the_companys_contracts(contract_payload: Callable[..., dict]) -> None:
    uow = fake_uow()
    _fill(uow, contract_payload)
    trainer = Principal(subject="t", company_roles={"A": frozenset({"trainer"})})
    with pytest.raises(Forbidden):
        list_for(uow, trainer)


def test_apprentice_may_not_list_contracts(contract_payload: Callable[..., dict]) -> None:
    uow = fake_uow()
    apprentice = Principal(subject="x", roles=frozenset({"apprentice"}), apprentice_number="20260001")
    with pytest.raises(Forbidden):
        list_for(uow, apprentice)


def test_pages_follow_the_cursor_without_gaps_or_repeats(contract_payload: Callable[..., dict]) -> None:
    uow = fake_uow()
    for _ in range(7):
        handlers.contract_registered(incoming(contract_payload()), uow)
    organiser = Principal(subject="o", roles=frozenset({"chamber_exam_organiser"}))
    bus = MessageBus(lambda: uow, consumer_name="exams", command_handlers=handlers.COMMAND_HANDLERS)  # type: ignore[arg-type, return-value]
    seen: list[str] = []
    cursor = None
    while True:
        page = bus.handle(ListRegisteredContracts(organiser, PageRequest(cursor=cursor, limit=3)))
        seen += [c.contract_id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(uow.contracts.items)
    assert len(seen) == 7

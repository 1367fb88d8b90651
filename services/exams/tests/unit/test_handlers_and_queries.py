"""Handlers and queries against fakes: no database, no broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from chassis.auth import Principal
from chassis.events.catalogue import validate_payload
from chassis.events.consumer import IncomingEvent
from chassis.events.envelope import new_envelope
from chassis.problems import ProblemError
from exams.domain.model import RegisteredContract
from exams.service_layer import handlers, queries


class FakeReadModel:
    def __init__(self) -> None:
        self.rows: dict[str, RegisteredContract] = {}

    def get(self, contract_id: str) -> RegisteredContract | None:
        return self.rows.get(contract_id)

    def add(self, contract: RegisteredContract) -> None:
        self.rows[contract.contract_id] = contract

    def list(
        self, *, company_numbers: set[str] | None, limit: int, offset: int
    ) -> Sequence[RegisteredContract]:
        rows = [
            c for c in self.rows.values() if company_numbers is None or c.company_number in company_numbers
        ]
        return rows[offset : offset + limit]


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.contracts = FakeReadModel()
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def commit(self) -> None:
        self.committed = True


def incoming(payload: dict[str, Any]) -> IncomingEvent:
    envelope = new_envelope(
        producer="training-records",
        event_type="training.contract.registered",
        subject=payload["contract_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, validate_payload(envelope.type, 1, payload))


def test_registered_contract_enters_the_read_model(contract_payload: Callable[..., dict]) -> None:
    uow = FakeUnitOfWork()
    payload = contract_payload()
    handlers.contract_registered(incoming(payload), uow)
    stored = uow.contracts.get(payload["contract_id"])
    assert stored is not None
    assert stored.apprentice_name == "Lena Lernwillig"
    assert stored.occupation_code == "78100"
    assert stored.start_date.isoformat() == "2026-09-01"


def test_same_contract_twice_is_kept_once(contract_payload: Callable[..., dict]) -> None:
    uow = FakeUnitOfWork()
    payload = contract_payload()
    handlers.contract_registered(incoming(payload), uow)
    handlers.contract_registered(incoming(payload), uow)  # new event id, same contract
    assert list(uow.contracts.rows) == [payload["contract_id"]]


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
    uow = FakeUnitOfWork()
    _fill(uow, contract_payload)
    assert len(queries.registered_contracts(uow, principal, limit=50, offset=0)) == expected  # type: ignore[arg-type]


def test_trainers_do_not_see_the_companys_contracts(contract_payload: Callable[..., dict]) -> None:
    uow = FakeUnitOfWork()
    _fill(uow, contract_payload)
    trainer = Principal(subject="t", company_roles={"A": frozenset({"trainer"})})
    with pytest.raises(ProblemError) as raised:
        queries.registered_contracts(uow, trainer, limit=50, offset=0)  # type: ignore[arg-type]
    assert raised.value.status == 403


def test_apprentice_may_not_list_contracts(contract_payload: Callable[..., dict]) -> None:
    uow = FakeUnitOfWork()
    apprentice = Principal(subject="x", roles=frozenset({"apprentice"}), apprentice_number="20260001")
    with pytest.raises(ProblemError) as raised:
        queries.registered_contracts(uow, apprentice, limit=50, offset=0)  # type: ignore[arg-type]
    assert raised.value.status == 403

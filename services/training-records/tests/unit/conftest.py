"""Fakes for unit tests: in-memory repositories and a unit of work with real commit/rollback.

Writes are staged and only become visible to later units of work on commit,
so "nothing is written" can be asserted the same way as with a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Self

import pytest

from chassis.auth import Principal
from chassis.events.catalogue import check_outgoing, validate_payload
from chassis.events.consumer import IncomingEvent
from chassis.events.envelope import Envelope, new_envelope
from training_records.domain.model import Company, Occupation


class FakeRepository:
    def __init__(self, key: str) -> None:
        self._key = key
        self.committed: dict[Any, Any] = {}
        self._staged: dict[Any, Any] = {}

    def get(self, key: Any) -> Any | None:
        return self._staged.get(key, self.committed.get(key))

    def add(self, entity: Any) -> None:
        self._staged[getattr(entity, self._key)] = entity

    def all(self) -> list[Any]:
        return list(self.committed.values())

    def commit(self) -> None:
        self.committed.update(self._staged)
        self._staged.clear()

    def rollback(self) -> None:
        self._staged.clear()


class FakeContractNumbers:
    def __init__(self) -> None:
        self.committed: dict[int, int] = {}
        self._staged: dict[int, int] = {}

    def next_value(self, year: int) -> int:
        value = self._staged.get(year, self.committed.get(year, 0)) + 1
        self._staged[year] = value
        return value

    def ensure_at_least(self, year: int, value: int) -> None:
        self._staged[year] = max(value, self._staged.get(year, self.committed.get(year, 0)))

    def commit(self) -> None:
        self.committed.update(self._staged)
        self._staged.clear()

    def rollback(self) -> None:
        self._staged.clear()


class FakeUnitOfWork:
    """Same surface as TrainingRecordsUnitOfWork; events are checked against the catalogue."""

    def __init__(self) -> None:
        self.occupations = FakeRepository("code")
        self.companies = FakeRepository("company_number")
        self.apprentices = FakeRepository("id")
        self.accounts = FakeRepository("apprentice_number")
        self.contracts = FakeRepository("id")
        self.contract_numbers = FakeContractNumbers()
        self.published: list[Envelope] = []  # what a commit put into the outbox
        self._pending: list[Envelope] = []
        self.commits = 0

    def _parts(self) -> list[Any]:
        return [
            self.occupations,
            self.companies,
            self.apprentices,
            self.accounts,
            self.contracts,
            self.contract_numbers,
        ]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.rollback()

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Envelope:
        check_outgoing(event_type, version, payload)
        envelope = new_envelope(
            producer="training-records", event_type=event_type, subject=subject, payload=payload
        )
        self._pending.append(envelope)
        return envelope

    def commit(self) -> None:
        for part in self._parts():
            part.commit()
        self.published.extend(self._pending)
        self._pending = []
        self.commits += 1

    def rollback(self) -> None:
        for part in self._parts():
            part.rollback()
        self._pending = []


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """A fake unit of work holding the occupations and the demo company."""
    fake = FakeUnitOfWork()
    fake.occupations.add(Occupation("25400", "Industriemechaniker/-in"))
    fake.occupations.add(Occupation("78100", "Industriekaufmann/Industriekauffrau"))
    fake.companies.add(
        Company(
            company_number="4711001",
            name="Muster Maschinenbau GmbH",
            email="ausbildung@muster-maschinenbau.example",
            street="Industriestraße 12",
            postal_code="34117",
            city="Kassel",
        )
    )
    fake.commit()
    fake.commits = 0
    fake.published.clear()
    return fake


@pytest.fixture
def principal() -> Callable[..., Principal]:
    def make(*roles: str, company_roles: dict[str, list[str]] | None = None, **claims: Any) -> Principal:
        return Principal.from_claims(
            {"sub": str(uuid.uuid4()), "roles": list(roles), "company_roles": company_roles or {}, **claims}
        )

    return make


@pytest.fixture
def incoming() -> Callable[..., IncomingEvent]:
    """An event as the consumer hands it to a handler: payload loaded by its catalogue schema."""

    def make(event_type: str, payload: dict[str, Any]) -> IncomingEvent:
        envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
        return IncomingEvent(envelope, validate_payload(event_type, 1, payload))

    return make


@pytest.fixture
def today() -> date:
    return date(2026, 6, 15)


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 9, 2, 8, 30, tzinfo=UTC)

"""Fixtures shared by identity's tests (no tests/__init__.py; helpers are fixtures)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from chassis.events.catalogue import check_outgoing
from chassis.events.envelope import Envelope, new_envelope
from chassis.testing.samples import contract_registered_payload
from identity.adapters.passwords import Argon2Hasher
from identity.domain.model import Account, password_reset_token_hash


# -- unit-test fakes ---------------------------------------------------------------------------------
class FakeAccounts:
    def __init__(self) -> None:
        self.by_id: dict[uuid.UUID, Account] = {}

    def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
        return self.by_id.get(account_id)

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        return next((a for a in self.by_id.values() if a.email == email.strip().lower()), None)

    def by_apprentice_number(self, number: str, *, for_update: bool = False) -> Account | None:
        return next((a for a in self.by_id.values() if a.apprentice_number == number.strip()), None)

    def by_login(self, login: str, *, for_update: bool = False) -> Account | None:
        login = login.strip()
        return (
            self.by_apprentice_number(login)
            or self.by_email(login)
            or next((a for a in self.by_id.values() if a.username == login.lower()), None)
        )

    def by_password_reset_token(self, token: str, *, for_update: bool = False) -> Account | None:
        token_hash = password_reset_token_hash(token)
        return next(
            (
                a
                for a in self.by_id.values()
                if a.password_reset and a.password_reset.token_hash == token_hash
            ),
            None,
        )

    def add(self, account: Account) -> None:
        assert account.id not in self.by_id
        self.by_id[account.id] = account

    def save(self, account: Account) -> None:
        assert account.id in self.by_id
        self.by_id[account.id] = account


class FakeApprenticeNumbers:
    def __init__(self, start: int = 20260101) -> None:
        self.next_value = start

    def next(self) -> str:
        value, self.next_value = self.next_value, self.next_value + 1
        return f"{value:08d}"


@dataclass
class FakeUnitOfWork:
    accounts: FakeAccounts = field(default_factory=FakeAccounts)
    apprentice_numbers: FakeApprenticeNumbers = field(default_factory=FakeApprenticeNumbers)
    committed: int = 0
    events: list[Envelope] = field(default_factory=list)
    _pending: list[Envelope] = field(default_factory=list)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def emit(self, event_type: str, subject: str, payload: dict[str, Any], version: int = 1) -> Envelope:
        check_outgoing(event_type, version, payload)  # the real catalogue's schemas
        envelope = new_envelope(
            producer="identity", event_type=event_type, subject=subject, payload=payload, version=version
        )
        self._pending.append(envelope)
        return envelope

    def commit(self) -> None:
        self.committed += 1
        self.events.extend(self._pending)
        self._pending = []

    def rollback(self) -> None:
        self._pending = []


@pytest.fixture
def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture(scope="session")
def fast_hasher() -> Argon2Hasher:
    """Real argon2id with the lowest cost, so that unit tests stay fast."""
    return Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def contract_payload() -> Callable[..., dict[str, Any]]:
    """Keyword arguments override the apprentice's fields; each apprentice has an e-mail of their own."""

    def make(**apprentice: Any) -> dict[str, Any]:
        return contract_registered_payload(
            apprentice={
                "first_name": "Paul",
                "last_name": "Probst",
                "birth_date": "2008-03-14",
                "email": f"paul.{uuid.uuid4().hex[:8]}@example.org",
            }
            | apprentice
        )

    return make

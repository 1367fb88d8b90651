"""Preparing the apprentice's account from a registered contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import ApprenticeAccountPrepared
from identity.adapters.codes import KeyedCodeHasher
from identity.domain.model import Account, AccountStatus
from identity.service_layer.handlers import contract_registered

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(days=30)


@pytest.fixture
def prepare(incoming):  # type: ignore[no-untyped-def]
    def prepare(fake_uow, code_hasher, contract) -> None:  # type: ignore[no-untyped-def]
        contract_registered(
            incoming(contract),
            fake_uow,
            code_hasher=code_hasher,
            clock=lambda: NOW,
            activation_valid_for=VALID_FOR,
        )

    return prepare


def test_new_apprentice_gets_the_next_number_and_a_code(
    fake_uow, code_hasher, contract_payload, prepare
) -> None:
    first, second = contract_payload(), contract_payload()
    prepare(fake_uow, code_hasher, first)
    prepare(fake_uow, code_hasher, second)
    numbers = [e.payload["apprentice_number"] for e in fake_uow.events]
    assert numbers == ["20260101", "20260102"]
    event = fake_uow.events[0]
    assert event.type == ApprenticeAccountPrepared.TYPE
    assert event.payload["contract_id"] == first["contract_id"]
    assert event.payload["email"] == first["apprentice"]["email"]
    assert event.payload["activation_expires_at"] == (NOW + VALID_FOR).isoformat()
    account = fake_uow.accounts.get(uuid.UUID(event.payload["account_id"]))
    assert account is not None
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert account.roles == ["apprentice"]
    assert account.name == "Paul Probst"
    # The plain code travels only in the event; the account holds its keyed hash.
    assert account.activation.code_hash.startswith("$hmac-sha256$")
    assert code_hasher.verify(account.activation.code_hash, event.payload["activation_code"])


def test_pending_account_keeps_its_number_and_gets_a_fresh_code(
    fake_uow, code_hasher, contract_payload, prepare
) -> None:
    contract = contract_payload()
    prepare(fake_uow, code_hasher, contract)
    again = contract_payload(email=contract["apprentice"]["email"].upper())
    prepare(fake_uow, code_hasher, again)
    first, second = fake_uow.events
    assert first.payload["account_id"] == second.payload["account_id"]
    assert first.payload["apprentice_number"] == second.payload["apprentice_number"]
    assert first.payload["activation_code"] != second.payload["activation_code"]
    assert len(fake_uow.accounts) == 1


def test_active_account_gets_no_new_code_but_is_announced(
    fake_uow, fast_hasher, code_hasher, contract_payload, prepare
) -> None:
    contract = contract_payload()
    existing = Account(
        id=uuid.uuid4(),
        email=contract["apprentice"]["email"],
        name="Paul Probst",
        status=AccountStatus.ACTIVE,
        password_hash=fast_hasher.hash("schon-aktiv-123"),
        company_roles={"4711001": ["trainer"]},
    )
    fake_uow.accounts.add(existing)
    prepare(fake_uow, code_hasher, contract)
    # The new contract needs the Azubinummer and the apprentice their confirmation,
    # but there is no code: the person logs in with the access data they have.
    [event] = fake_uow.events
    payload = event.payload
    assert payload["apprentice_number"] == "20260101"
    assert payload["contract_id"] == str(contract["contract_id"])
    assert payload["activation_code"] is None and payload["activation_expires_at"] is None
    assert existing.apprentice_number == "20260101"
    assert "apprentice" in existing.roles
    assert existing.company_roles == {"4711001": ["trainer"]}
    assert existing.activation is None


class CountingArgon2:
    """The argon2 hasher, counting every use."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.uses = 0

    def hash(self, secret: str) -> str:
        self.uses += 1
        return self.inner.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.uses += 1
        return self.inner.verify(hashed, secret)

    def needs_rehash(self, hashed: str) -> bool:
        self.uses += 1
        return self.inner.needs_rehash(hashed)


def test_preparing_an_account_runs_no_argon2(fake_uow, fast_hasher, contract_payload, prepare) -> None:
    """A bulk import of contracts is bound by this handler: the code gets a keyed hash, no argon2,
    even while codes hashed with argon2 before are still accepted at activation."""
    argon2 = CountingArgon2(fast_hasher)
    hasher = KeyedCodeHasher("k" * 40, legacy=argon2)
    argon2.uses = 0  # the construction hashed its dummy once
    contract = contract_payload()
    prepare(fake_uow, hasher, contract)
    prepare(fake_uow, hasher, contract_payload(email=contract["apprentice"]["email"]))  # a pending account
    assert len(fake_uow.events) == 2
    assert argon2.uses == 0

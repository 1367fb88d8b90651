"""Fixtures shared by identity's tests (no tests/__init__.py; helpers are fixtures)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from chassis.contracts.training import ContractRegistered
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.pagination import Page, PageRequest, paginate_in_memory
from chassis.principal import CHAMBER_ROLES
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from chassis.testing.samples import contract_registered_payload
from identity.adapters.audit import NEWEST_FIRST
from identity.adapters.codes import KeyedCodeHasher
from identity.adapters.grants_repository import MEMBER_ORDER, OPEN_ORDER
from identity.adapters.passwords import Argon2Hasher
from identity.domain.audit import AuditFilter, AuditRecord, AuditRecorder
from identity.domain.company_access import CompanyAccess, RegisteredApprentice, RegisteredTrainer
from identity.domain.deputies import Deputyship, DeputyshipStatus
from identity.domain.grants import CompanyService
from identity.domain.invitations import Invitation, invitation_token_hash
from identity.domain.model import (
    Account,
    AccountStatus,
    FailedLogin,
    LockoutPolicy,
    LoginSession,
    password_reset_token_hash,
    session_id_hash,
)


# -- unit-test fakes: chassis' FakeUnitOfWork with identity's finders -----------------------------------
class FakeAccounts(FakeRepository[Account]):
    def __init__(self) -> None:
        super().__init__(key="id")

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        return self.first(lambda a: a.email == email.strip().lower())

    def by_apprentice_number(self, number: str, *, for_update: bool = False) -> Account | None:
        return self.first(lambda a: a.apprentice_number == number.strip())

    def by_login(self, login: str, *, for_update: bool = False) -> Account | None:
        login = login.strip()
        return (
            self.by_apprentice_number(login)
            or self.by_email(login)
            or self.first(lambda a: a.username == login.lower())
        )

    def by_password_reset_token(self, token: str, *, for_update: bool = False) -> Account | None:
        token_hash = password_reset_token_hash(token)
        return self.first(
            lambda a: a.password_reset is not None and a.password_reset.token_hash == token_hash
        )

    def add(self, account: Account) -> None:
        assert account.id not in self.items
        super().add(account)

    def by_registration_token(self, token: str, *, for_update: bool = False) -> Account | None:
        token_hash = password_reset_token_hash(token)
        return self.first(lambda a: a.registration is not None and a.registration.token_hash == token_hash)

    def record_failed_login(self, account_id: uuid.UUID, now: datetime, policy: LockoutPolicy) -> FailedLogin:
        account = self.items[account_id]
        was_locked = account.is_locked_out(now)
        account.record_failed_login(now, policy)
        if not account.is_locked_out(now):
            return FailedLogin(None)
        return FailedLogin(account.locked_until, just_locked=not was_locked)

    def record_login(
        self, account_id: uuid.UUID, *, verified_hash: str, now: datetime, new_password_hash: str | None
    ) -> bool:
        account = self.items[account_id]
        if (
            account.password_hash != verified_hash
            or account.status is not AccountStatus.ACTIVE
            or account.is_locked_out(now)
        ):
            return False
        account.record_login(now, new_password_hash)
        return True


class FakeApprenticeNumbers:
    """The Azubinummer counter (not a repository of things: one number after the other)."""

    def __init__(self, start: int = 20260101) -> None:
        self.next_value = start

    def next(self) -> str:
        value, self.next_value = self.next_value, self.next_value + 1
        return f"{value:08d}"


class FakeLoginSessions(FakeRepository[LoginSession]):
    """Login sessions by the hash of their id; remembers the accounts whose sessions all ended."""

    def __init__(self) -> None:
        super().__init__(key="id_hash")
        self.ended_for: list[uuid.UUID] = []

    def live(self, session_id: str, now: datetime) -> LoginSession | None:
        found = self.get(session_id_hash(session_id))
        return found if found is not None and found.is_live(now) else None

    def end(self, session_id: str) -> None:
        self.items.pop(session_id_hash(session_id), None)

    def end_all(self, account_id: uuid.UUID) -> None:
        self.ended_for.append(account_id)
        for session in self.find(lambda s: s.account_id == account_id):
            self.delete(session)

    def delete_expired(self, now: datetime) -> None:
        for session in self.find(lambda s: not s.is_live(now)):
            self.delete(session)


class FakeTokens:
    """The accounts whose tokens were all revoked."""

    def __init__(self) -> None:
        self.revoked_for: list[str] = []

    def revoke_account(self, account_id: uuid.UUID, now: datetime) -> None:
        self.revoked_for.append(str(account_id))


class FakeAuditLog(FakeRepository[AuditRecord], AuditRecorder):
    """The audit log in memory: ``record`` as the real one, ``kinds`` for assertions."""

    def __init__(self) -> None:
        super().__init__(key="id")

    def _append(self, record: AuditRecord) -> None:
        self.add(record)

    def page_matching(self, wanted: AuditFilter, request: PageRequest) -> Page[AuditRecord]:
        return self.page(wanted.matches, NEWEST_FIRST, request)

    def kinds(self) -> list[str]:
        return [record.kind for record in self.items.values()]


class FakeInvitations(FakeRepository[Invitation]):
    def __init__(self) -> None:
        super().__init__(key="token_hash")

    def replace_open(self, account_id: uuid.UUID) -> None:
        for invitation in self.find(lambda i: i.account_id == account_id):
            self.delete(invitation)

    def by_token(self, token: str, *, for_update: bool = False) -> Invitation | None:
        return self.get(invitation_token_hash(token))


class FakeRegister:
    """The register's apprentices and trainers per company."""

    def __init__(self) -> None:
        self.apprentices = FakeRepository[RegisteredApprentice](
            key=lambda a: (a.company_number, a.apprentice_number)
        )
        self.trainers = FakeRepository[RegisteredTrainer](key="trainer_id")

    def apprentice(self, company_number: str, apprentice_number: str) -> RegisteredApprentice | None:
        return self.apprentices.get((company_number, apprentice_number))

    def add_apprentice(self, apprentice: RegisteredApprentice) -> None:
        if self.apprentice(apprentice.company_number, apprentice.apprentice_number) is None:
            self.apprentices.add(apprentice)

    def trainer(self, trainer_id: uuid.UUID) -> RegisteredTrainer | None:
        return self.trainers.get(trainer_id)

    def add_trainer(self, trainer: RegisteredTrainer) -> None:
        self.trainers.add(trainer)


class FakeCompanyAccesses(FakeRepository[CompanyAccess]):
    def __init__(self) -> None:
        super().__init__(key="company_number")

    def get(self, key: object, *, for_update: bool = False) -> CompanyAccess | None:  # type: ignore[override]
        return super().get(str(key).strip())

    def hand_over_apprentice_number(self, pending: Account, account: Account, number: str) -> None:
        pending.apprentice_number = None
        account.make_apprentice(number)


class FakeAccountGrants:
    """Finders over the fake accounts (the SQL one queries the JSON columns)."""

    def __init__(self, accounts: FakeAccounts) -> None:
        self.accounts = accounts

    def all_members(self, company_number: str) -> list[Account]:
        return self.accounts.find(lambda a: company_number in a.company_roles)

    def members(self, company_number: str, request: PageRequest) -> Page[Account]:
        return paginate_in_memory(self.all_members(company_number), MEMBER_ORDER, request)

    def administrators(self, company_number: str) -> int:
        return sum(1 for a in self.all_members(company_number) if "admin" in a.company_roles[company_number])

    def chamber_staff(self, request: PageRequest) -> Page[Account]:
        staff = self.accounts.find(lambda a: bool(set(a.roles) & CHAMBER_ROLES))
        return paginate_in_memory(staff, MEMBER_ORDER, request)

    def chamber_admins(self) -> int:
        return len(self.accounts.find(lambda a: "chamber_admin" in a.roles))


class FakeCompanyServices(FakeRepository[CompanyService]):
    def __init__(self) -> None:
        super().__init__(key=lambda s: (s.company_number, s.service))

    def switched_on(self, company_number: str) -> frozenset[str]:
        return frozenset(s.service for s in self.find(lambda s: s.company_number == company_number))

    def find_one(self, company_number: str, service: str) -> CompanyService | None:
        return self.get((company_number, service))


class FakeDeputyships(FakeRepository[Deputyship]):
    def __init__(self) -> None:
        super().__init__(key="id")

    def for_update(self, deputyship_id: uuid.UUID) -> Deputyship | None:
        return self.get(deputyship_id)

    def open_requests(self, request: PageRequest) -> Page[Deputyship]:
        return paginate_in_memory(self.find(lambda d: d.is_open), OPEN_ORDER, request)

    def involving(self, account_id: uuid.UUID, company_numbers: list[str]) -> list[Deputyship]:
        return self.find(
            lambda d: (
                d.status in (DeputyshipStatus.REQUESTED, DeputyshipStatus.APPROVED)
                and (
                    account_id in (d.represented_account_id, d.deputy_account_id)
                    or d.company_number in company_numbers
                )
            )
        )


class FakeCompanyStructure:
    def __init__(self) -> None:
        self.branches: dict[str, str] = {}
        self.reach_on: set[str] = set()

    def assign_branch(self, branch_number: str, head_office_number: str) -> None:
        self.branches[branch_number] = head_office_number

    def remove_branch(self, branch_number: str, head_office_number: str) -> None:
        if self.branches.get(branch_number) == head_office_number:
            del self.branches[branch_number]

    def set_reach(self, company_number: str, enabled: bool) -> None:
        (self.reach_on.add if enabled else self.reach_on.discard)(company_number)

    def reach(self, head_offices: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for branch, head in sorted(self.branches.items()):
            if head in head_offices and head in self.reach_on:
                found.setdefault(head, []).append(branch)
        return found


def new_fake_uow() -> FakeUnitOfWork:
    accounts = FakeAccounts()
    return FakeUnitOfWork(
        accounts=accounts,
        apprentice_numbers=FakeApprenticeNumbers(),
        login_sessions=FakeLoginSessions(),
        oauth=FakeTokens(),
        audit=FakeAuditLog(),
        invitations=FakeInvitations(),
        register=FakeRegister(),
        company_accesses=FakeCompanyAccesses(),
        account_grants=FakeAccountGrants(accounts),
        company_services=FakeCompanyServices(),
        deputyships=FakeDeputyships(),
        company_structure=FakeCompanyStructure(),
    )


@pytest.fixture
def fake_uow() -> FakeUnitOfWork:
    return new_fake_uow()


def incoming_contract(payload: dict[str, Any]) -> IncomingEvent[ContractRegistered]:
    """training.contract.registered as the consumer hands it to the handler (typed payload)."""
    envelope = new_envelope(
        producer="training-records",
        event_type=ContractRegistered.TYPE,
        subject=payload["contract_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, load_payload(envelope.type, envelope.version, payload))  # type: ignore[arg-type]


@pytest.fixture
def incoming() -> Callable[[dict[str, Any]], IncomingEvent[ContractRegistered]]:
    return incoming_contract


@pytest.fixture(scope="session")
def fast_hasher() -> Argon2Hasher:
    """Real argon2id with the lowest cost, so that unit tests stay fast."""
    return Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)


UNIT_TEST_CODE_KEY = "unit-test-code-hash-key-0123456789abcdef"


@pytest.fixture(scope="session")
def code_hasher(fast_hasher: Argon2Hasher) -> KeyedCodeHasher:
    """The production code hasher: keyed, and accepting codes hashed with argon2 before it."""
    return KeyedCodeHasher(UNIT_TEST_CODE_KEY, legacy=fast_hasher)


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

"""The chamber's unlock and the audit log: who may, what is recorded, that nothing secret is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.domain import Forbidden, NotFound
from chassis.pagination import PageRequest
from chassis.principal import Principal
from identity.domain.account_commands import FindAccountLock, ListAuditRecords, UnlockAccount
from identity.domain.audit import AuditFilter, AuditKind, AuditRecord, SecretInAudit
from identity.domain.commands import LogIn
from identity.domain.model import Account, AccountLockedOut, AccountStatus, InvalidCredentials, LockoutPolicy
from identity.service_layer import handlers, registration
from identity.service_layer.handlers import TimingShield
from identity.service_layer.links import AccountLinks

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LINKS = AccountLinks("https://portal.example/idp")
PASSWORD = "Ein-gutes-langes-Passwort"
ADMIN = Principal(subject=str(uuid.uuid4()), roles=frozenset({"chamber_admin"}))
CLERK = Principal(subject=str(uuid.uuid4()), roles=frozenset({"chamber_clerk"}))
APPRENTICE = Principal(subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}))
COMPANY = Principal(subject=str(uuid.uuid4()), company_roles={"12345678": frozenset({"admin"})})


@pytest.fixture
def account(fake_uow, fast_hasher) -> Account:
    account = Account(
        id=uuid.uuid4(),
        email="azubi@example.org",
        name="Azubi",
        status=AccountStatus.ACTIVE,
        apprentice_number="20260101",
        password_hash=fast_hasher.hash(PASSWORD),
    )
    fake_uow.accounts.add(account)
    return account


def attempt(fake_uow, fast_hasher, login: str, password: str) -> Account:  # type: ignore[no-untyped-def]
    return handlers.log_in(
        LogIn(login, password, client="203.0.113.9"),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: NOW,
        policy=LockoutPolicy(threshold=3),
        shield=TimingShield(fast_hasher.hash("x"), "unused"),
        links=LINKS,
    )


def lock(fake_uow, fast_hasher, login: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        with pytest.raises((InvalidCredentials, AccountLockedOut)):
            attempt(fake_uow, fast_hasher, login, "geraten-geraten")


def test_the_locking_failure_tells_the_owner_once_and_is_audited(fake_uow, fast_hasher, account) -> None:
    lock(fake_uow, fast_hasher, "20260101")
    with pytest.raises(AccountLockedOut):
        attempt(fake_uow, fast_hasher, "20260101", "geraten-geraten")
    locked = [e for e in fake_uow.events if e.type == "identity.account.locked_out"]
    assert len(locked) == 1
    assert locked[0].payload["locked_until"] == (NOW + timedelta(hours=24)).isoformat()
    assert locked[0].payload["password_forgotten_url"] == "https://portal.example/idp/password/forgotten"
    assert fake_uow.audit.kinds() == ["login.failed"] * 3 + ["account.locked_out"]
    for record in fake_uow.audit.all():
        assert "geraten" not in str(record.details)
        assert record.details["client"] == "203.0.113.9"


def test_the_chamber_unlocks_and_the_owner_logs_in(fake_uow, fast_hasher, account) -> None:
    lock(fake_uow, fast_hasher, "20260101")
    seen = registration.find_account_lock(FindAccountLock(CLERK, "20260101"), fake_uow, clock=lambda: NOW)
    assert seen.locked_until == NOW + timedelta(hours=24)
    after = registration.unlock_account(UnlockAccount(CLERK, account.id), fake_uow, clock=lambda: NOW)
    assert after.locked_until is None and after.failed_logins == 0
    assert attempt(fake_uow, fast_hasher, "20260101", PASSWORD).id == account.id
    unlocked = [r for r in fake_uow.audit.all() if r.kind == AuditKind.ACCOUNT_UNLOCKED]
    assert unlocked[0].actor_id == uuid.UUID(CLERK.subject)
    assert unlocked[0].details == {"was_locked": True}


@pytest.mark.parametrize("principal", [APPRENTICE, COMPANY])
def test_only_the_chamber_looks_up_and_unlocks(fake_uow, account, principal: Principal) -> None:
    with pytest.raises(Forbidden):
        registration.find_account_lock(FindAccountLock(principal, "20260101"), fake_uow, clock=lambda: NOW)
    with pytest.raises(Forbidden):
        registration.unlock_account(UnlockAccount(principal, account.id), fake_uow, clock=lambda: NOW)


def test_an_unknown_account_is_not_found(fake_uow) -> None:
    with pytest.raises(NotFound):
        registration.find_account_lock(FindAccountLock(ADMIN, "20269999"), fake_uow, clock=lambda: NOW)
    with pytest.raises(NotFound):
        registration.unlock_account(UnlockAccount(ADMIN, uuid.uuid4()), fake_uow, clock=lambda: NOW)


def test_only_chamber_administrators_read_the_audit_log(fake_uow, fast_hasher, account) -> None:
    lock(fake_uow, fast_hasher, "20260101")
    query = ListAuditRecords(ADMIN, AuditFilter(account_id=account.id), PageRequest(limit=2))
    first = registration.list_audit_records(query, fake_uow)
    assert [r.kind for r in first.items] and first.next_cursor is not None
    locked = registration.list_audit_records(
        ListAuditRecords(ADMIN, AuditFilter(kind=AuditKind.ACCOUNT_LOCKED_OUT), PageRequest()), fake_uow
    )
    assert [r.kind for r in locked.items] == ["account.locked_out"]
    for principal in (CLERK, APPRENTICE, COMPANY):
        with pytest.raises(Forbidden):
            registration.list_audit_records(
                ListAuditRecords(principal, AuditFilter(), PageRequest()), fake_uow
            )


@pytest.mark.parametrize("key", ["password", "new_password", "reset_token", "activation_code", "confirm_url"])
def test_nothing_secret_goes_into_a_record(key: str) -> None:
    with pytest.raises(SecretInAudit):
        AuditRecord.new(AuditKind.LOGIN_FAILED, None, NOW, details={key: "x"})
    with pytest.raises(SecretInAudit):
        AuditRecord.new(AuditKind.LOGIN_FAILED, None, NOW, details={"nested": {"a": 1}})  # type: ignore[dict-item]

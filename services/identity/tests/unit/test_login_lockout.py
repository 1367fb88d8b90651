"""Login rules: lockout after N consecutive failures for 24 hours, reset on success, no enumeration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.audit import AuditKind
from identity.domain.commands import LogIn, LogInAtProvider
from identity.domain.model import (
    Account,
    AccountLockedOut,
    AccountStatus,
    InvalidCredentials,
    LockoutPolicy,
    LoginSession,
)
from identity.service_layer.handlers import TimingShield, log_in, log_in_at_provider
from identity.service_layer.links import AccountLinks

LINKS = AccountLinks("https://portal.example/idp")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(threshold=5, duration=timedelta(hours=24))
PASSWORD = "richtig-und-lang-genug"


@pytest.fixture
def account(fake_uow, fast_hasher) -> Account:
    account = Account(
        id=uuid.uuid4(),
        email="Anna@Example.org",
        name="Anna Ausbilder",
        status=AccountStatus.ACTIVE,
        password_hash=fast_hasher.hash(PASSWORD),
    )
    fake_uow.accounts.add(account)
    return account


def attempt(fake_uow, fast_hasher, login: str, password: str, now: datetime = NOW) -> Account:
    return log_in(
        LogIn(login, password),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: now,
        policy=POLICY,
        shield=TimingShield(fast_hasher.hash("x"), "unused: no activation here"),
        links=LINKS,
    )


def test_right_password_logs_in_case_insensitively_by_email(fake_uow, fast_hasher, account) -> None:
    assert attempt(fake_uow, fast_hasher, " anna@EXAMPLE.org ", PASSWORD).id == account.id
    assert account.last_login_at == NOW


def test_fifth_consecutive_failure_locks_for_24_hours(fake_uow, fast_hasher, account) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            attempt(fake_uow, fast_hasher, account.email, "falsch")
    with pytest.raises(AccountLockedOut) as locked:
        attempt(fake_uow, fast_hasher, account.email, "falsch")
    assert locked.value.until == NOW + timedelta(hours=24)
    # Every failure was committed although the login failed: one commit each.
    assert fake_uow.commits == 5
    assert fake_uow.accounts.get(account.id).locked_until == NOW + timedelta(hours=24)
    # While locked even the right password is refused, without being checked against the
    # account's hash (a dummy hash is spent instead, for the timing), and the refused
    # attempt writes nothing (the lock is not extended).
    not_verifying = NotVerifying(fast_hasher)
    with pytest.raises(AccountLockedOut):
        attempt(
            fake_uow,
            not_verifying,
            account.email,
            PASSWORD,
            NOW + timedelta(hours=23, minutes=59),
        )
    assert not_verifying.calls == 1
    assert fake_uow.commits == 5
    assert fake_uow.accounts.get(account.id).locked_until == NOW + timedelta(hours=24)


class NotVerifying:
    """A hasher that must not verify the password against the account's hash (a dummy is fine)."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.calls = 0

    def hash(self, secret: str) -> str:
        return self.inner.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.calls += 1
        if self.inner.verify(hashed, secret):
            raise AssertionError("the password was checked during the lock")
        return False

    def needs_rehash(self, hashed: str) -> bool:
        return self.inner.needs_rehash(hashed)


def test_lock_expires_after_the_duration(fake_uow, fast_hasher, account) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            attempt(fake_uow, fast_hasher, account.email, "falsch")
    with pytest.raises(AccountLockedOut):
        attempt(fake_uow, fast_hasher, account.email, "falsch")
    later = NOW + timedelta(hours=24)
    assert attempt(fake_uow, fast_hasher, account.email, PASSWORD, later).locked_until is None


def test_success_resets_the_failure_counter(fake_uow, fast_hasher, account) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            attempt(fake_uow, fast_hasher, account.email, "falsch")
    attempt(fake_uow, fast_hasher, account.email, PASSWORD)
    assert account.failed_logins == 0
    for _ in range(4):  # four more failures do not lock: the count started over
        with pytest.raises(InvalidCredentials):
            attempt(fake_uow, fast_hasher, account.email, "falsch")
    assert not account.is_locked_out(NOW)


def test_unknown_login_and_wrong_password_fail_alike(fake_uow, fast_hasher, account) -> None:
    with pytest.raises(InvalidCredentials) as unknown:
        attempt(fake_uow, fast_hasher, "niemand@example.org", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        attempt(fake_uow, fast_hasher, account.email, "falsch")
    assert type(unknown.value) is type(wrong.value)


def test_pending_account_cannot_log_in(fake_uow, fast_hasher) -> None:
    pending = Account(id=uuid.uuid4(), email="neu@example.org", name="Neu", apprentice_number="20260150")
    fake_uow.accounts.add(pending)
    with pytest.raises(InvalidCredentials):
        attempt(fake_uow, fast_hasher, "20260150", "irgendein-passwort")


def test_hash_with_outdated_parameters_is_upgraded_on_login(fake_uow, account) -> None:
    from identity.adapters.passwords import Argon2Hasher

    stronger = Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1)
    old_hash = account.password_hash
    attempt(fake_uow, stronger, account.email, PASSWORD)
    assert account.password_hash != old_hash
    assert not stronger.needs_rehash(account.password_hash or "")


class CountingShield(TimingShield):
    """The real shield, counting the hashes it spends."""

    spent = 0

    def spend_on_password(self, hasher, password: str) -> None:  # type: ignore[no-untyped-def]
        type(self).spent += 1
        super().spend_on_password(hasher, password)


@pytest.mark.parametrize("status", [AccountStatus.PENDING_ACTIVATION, AccountStatus.LOCKED])
def test_accounts_that_cannot_log_in_cost_a_hash_like_unknown_ones(fake_uow, fast_hasher, status) -> None:
    account = Account(id=uuid.uuid4(), email="neu@example.org", name="Neu", status=status)
    fake_uow.accounts.add(account)
    shield = CountingShield(fast_hasher.hash("x"), "unused: no activation here")
    CountingShield.spent = 0
    for login in (account.email, "niemand@example.org"):
        with pytest.raises(InvalidCredentials):
            log_in(
                LogIn(login, "geraten"),
                fake_uow,
                hasher=fast_hasher,
                clock=lambda: NOW,
                policy=POLICY,
                shield=shield,
                links=LINKS,
            )
    # One hash each: the pending/disabled account is as slow as an unknown login.
    assert CountingShield.spent == 2


def attempt_at_provider(fake_uow, fast_hasher, login: str, password: str, replaces: str | None = None):  # type: ignore[no-untyped-def]
    return log_in_at_provider(
        LogInAtProvider(login, password, client="203.0.113.7", replaces=replaces),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: NOW,
        policy=POLICY,
        shield=TimingShield(fast_hasher.hash("x"), "unused: no activation here"),
        links=LINKS,
        login_session_lifetime=timedelta(hours=8),
    )


def test_a_login_at_the_page_records_it_and_starts_the_session_in_one_commit(
    fake_uow, fast_hasher, account
) -> None:
    earlier, earlier_id = LoginSession.start(account.id, NOW - timedelta(hours=1), timedelta(hours=8))
    fake_uow.login_sessions.add(earlier)

    logged_in = attempt_at_provider(fake_uow, fast_hasher, account.email, PASSWORD, replaces=earlier_id)

    assert logged_in.account.id == account.id
    assert fake_uow.commits == 1
    assert fake_uow.audit.kinds() == [AuditKind.LOGIN_SUCCEEDED]
    started = fake_uow.login_sessions.live(logged_in.session_id, NOW)
    assert started is not None and started.account_id == account.id and started.auth_time == NOW
    assert fake_uow.login_sessions.live(earlier_id, NOW) is None  # the browser's session before ended


def test_a_failed_login_at_the_page_starts_no_session(fake_uow, fast_hasher, account) -> None:
    with pytest.raises(InvalidCredentials):
        attempt_at_provider(fake_uow, fast_hasher, account.email, "falsch")
    assert fake_uow.login_sessions.find(lambda _session: True) == []
    assert fake_uow.audit.kinds() == [AuditKind.LOGIN_FAILED]
    assert account.failed_logins == 1

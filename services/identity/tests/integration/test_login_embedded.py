"""Lockout and login sessions in the embedded mode: the same SQL on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chassis.config import ServiceSettings
from chassis.demo import demo_account
from identity.bootstrap import IdentityRuntime, bootstrap, seed_demo
from identity.domain.commands import LogIn, StartLoginSession
from identity.domain.model import Account, AccountLockedOut, InvalidCredentials
from identity.service_layer import handlers
from identity.service_layer.links import AccountLinks

NOW = datetime.now(UTC)


@pytest.fixture
def sqlite_runtime(tmp_path: Path, queue_prefix: str) -> Iterator[IdentityRuntime]:
    env = {
        "BP_DATA_DIR": str(tmp_path),
        "BP_MODE": "embedded",
        "BP_BUS_URL": "memory://",
        "BP_QUEUE_PREFIX": queue_prefix,
        "BP_LOG_JSON": "0",
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_ARGON2_MEMORY_KIB": "8192",
        "IDENTITY_ARGON2_PARALLELISM": "1",
    }
    runtime = bootstrap(ServiceSettings.from_env("identity", env))
    assert runtime.settings.database_url.startswith("sqlite:")
    runtime.migrate()
    seed_demo(runtime)
    yield runtime
    runtime.engine.dispose()


def test_five_failures_lock_and_the_lock_expires(sqlite_runtime) -> None:
    runtime = sqlite_runtime
    trainer = demo_account("trainer")

    def attempt(password: str, now: datetime = NOW) -> Account:
        return handlers.log_in(
            LogIn(trainer.login, password),
            runtime.uow_factory(),
            hasher=runtime.hasher,
            clock=lambda: now,
            policy=runtime.config.lockout,
            shield=runtime.shield,
            links=AccountLinks("http://portal.test/auth"),
        )

    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            attempt("falsches-Passwort")
    with pytest.raises(AccountLockedOut) as locked:
        attempt("falsches-Passwort")
    assert locked.value.until == NOW + timedelta(hours=24)
    with pytest.raises(AccountLockedOut):
        attempt(trainer.password)
    assert attempt(trainer.password, NOW + timedelta(hours=24)).locked_until is None


def test_login_sessions_expire_and_end(sqlite_runtime) -> None:
    account_id = uuid.UUID(demo_account("clerk").account_id)
    session_id = handlers.start_login_session(
        StartLoginSession(account_id),
        sqlite_runtime.uow_factory(),
        clock=lambda: NOW,
        login_session_lifetime=timedelta(hours=8),
    )
    with sqlite_runtime.uow_factory() as uow:
        found = uow.login_sessions.live(session_id, NOW + timedelta(hours=7))
        assert found is not None and found.account_id == account_id and found.auth_time == NOW
        assert uow.login_sessions.live(session_id, NOW + timedelta(hours=8)) is None
        uow.login_sessions.end_all(account_id)
        uow.commit()
    with sqlite_runtime.uow_factory() as uow:
        assert uow.login_sessions.live(session_id, NOW) is None

"""Login under concurrency, on PostgreSQL: argon2 runs while no row lock and no database
connection is held, and concurrent failures are counted exactly (5 in a row lock for 24 hours)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from chassis.demo import demo_account
from identity.adapters.orm import accounts
from identity.domain.commands import LogIn
from identity.domain.model import AccountLockedOut, InvalidCredentials
from identity.service_layer import handlers
from identity.service_layer.links import AccountLinks

WRONG = "falsches-Passwort"


class ProbingHasher:
    """The runtime's real argon2id hasher; ``probe`` runs while a password is being verified."""

    def __init__(self, inner: Any, probe: Callable[[], None]) -> None:
        self.inner = inner
        self.probe = probe

    def hash(self, secret: str) -> str:
        return self.inner.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.probe()
        return self.inner.verify(hashed, secret)

    def needs_rehash(self, hashed: str) -> bool:
        return self.inner.needs_rehash(hashed)


@pytest.fixture
def other_connection(runtime) -> Iterator[sa.Engine]:
    """A second engine, like another worker: its connections are not the runtime's pool's."""
    engine = sa.create_engine(runtime.settings.database_url)
    yield engine
    engine.dispose()


def attempt(runtime, login: str, password: str, hasher: Any) -> Any:
    return handlers.log_in(
        LogIn(login, password),
        runtime.uow_factory(),
        hasher=hasher,
        clock=lambda: datetime.now(UTC),
        policy=runtime.config.lockout,
        shield=runtime.shield,
        links=AccountLinks("http://portal.test/auth"),
    )


def stored(runtime, account_id: str) -> Any:
    with runtime.engine.connect() as conn:
        return conn.execute(
            sa.select(accounts.c.failed_logins, accounts.c.locked_until, accounts.c.password_hash).where(
                accounts.c.id == account_id
            )
        ).one()


def attempts_in_parallel(runtime, login: str, count: int) -> list[type[BaseException] | None]:
    """``count`` wrong logins whose password checks all run at the same moment."""
    # Every attempt waits inside argon2 until all of them are there: under a row lock
    # held across the hash, only one could ever get there and the barrier would break.
    barrier = threading.Barrier(count, timeout=10)
    hasher = ProbingHasher(runtime.hasher, barrier.wait)
    outcomes: list[type[BaseException] | None] = []

    def run() -> None:
        try:
            attempt(runtime, login, WRONG, hasher)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test looks at
            outcomes.append(type(exc))
        else:
            outcomes.append(None)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_the_password_check_holds_no_row_lock_and_no_connection(runtime, other_connection) -> None:
    trainer = demo_account("trainer")
    seen: list[tuple[int, str]] = []

    def probe() -> None:
        checked_out = runtime.engine.pool.checkedout()  # type: ignore[attr-defined]
        with other_connection.connect() as conn:
            try:
                conn.execute(
                    sa.select(accounts.c.id)
                    .where(accounts.c.id == trainer.account_id)
                    .with_for_update(nowait=True)
                ).one()
                row = "free"
            except OperationalError:
                row = "locked"
            conn.rollback()
        seen.append((checked_out, row))

    hasher = ProbingHasher(runtime.hasher, probe)
    with pytest.raises(InvalidCredentials):
        attempt(runtime, trainer.login, WRONG, hasher)
    assert str(attempt(runtime, trainer.login, trainer.password, hasher).id) == trainer.account_id
    assert seen == [(0, "free"), (0, "free")]
    assert stored(runtime, trainer.account_id).failed_logins == 0  # the success reset the count


def test_concurrent_wrong_logins_are_counted_exactly(runtime) -> None:
    trainer = demo_account("trainer")
    outcomes = attempts_in_parallel(runtime, trainer.login, 4)
    assert outcomes == [InvalidCredentials] * 4
    row = stored(runtime, trainer.account_id)
    assert row.failed_logins == 4
    assert row.locked_until is None


def test_concurrent_wrong_logins_lock_once_at_the_fifth(runtime) -> None:
    trainer = demo_account("trainer")
    outcomes = attempts_in_parallel(runtime, trainer.login, 8)
    # Four count, the fifth locks, the three after it find the account locked.
    assert sorted(o.__name__ for o in outcomes if o) == ["AccountLockedOut"] * 4 + ["InvalidCredentials"] * 4
    row = stored(runtime, trainer.account_id)
    assert row.failed_logins == 0  # after the lock expires the count starts over
    assert timedelta(hours=23, minutes=59) < row.locked_until - datetime.now(UTC) <= timedelta(hours=24)
    with pytest.raises(AccountLockedOut):
        attempt(runtime, trainer.login, trainer.password, runtime.hasher)


def test_a_password_changed_during_the_check_is_not_logged_in_with(runtime, other_connection) -> None:
    """The right old password, verified while a reset sets a new one: the login is refused."""
    trainer = demo_account("trainer")
    new_hash = runtime.hasher.hash("Mein-neues-Passwort-2026")

    def reset_meanwhile() -> None:
        with other_connection.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            conn.execute(
                sa.update(accounts).where(accounts.c.id == trainer.account_id).values(password_hash=new_hash)
            )

    with pytest.raises(InvalidCredentials):
        attempt(runtime, trainer.login, trainer.password, ProbingHasher(runtime.hasher, reset_meanwhile))
    row = stored(runtime, trainer.account_id)
    assert row.password_hash == new_hash
    assert row.failed_logins == 0  # the old password was right: no failure is counted

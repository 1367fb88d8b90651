"""argon2 (slow on purpose) runs while no database connection and no row lock is held:
activation (the code's check, which is argon2 for a code issued before the keyed hash, and the
new password) and a new password through a reset link. Preparing an apprentice's account
hashes its code with the keyed hash before its transaction, and runs no argon2 at all."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from chassis.contracts.identity import AccountActivated
from chassis.demo import demo_account
from identity.adapters.orm import accounts, outbox
from identity.domain.commands import ActivateAccount, RequestPasswordReset, ResetPassword
from identity.domain.model import Account, Activation
from identity.service_layer import handlers
from identity.service_layer.links import AccountLinks

NEW_PASSWORD = "Mein-neues-Passwort-2026"


class WatchingHasher:
    """One of the runtime's hashers; ``watch`` runs at every hash and every verification."""

    def __init__(self, inner: Any, watch: Callable[[], None]) -> None:
        self.inner = inner
        self.watch = watch

    def hash(self, secret: str) -> str:
        self.watch()
        return self.inner.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.watch()
        return self.inner.verify(hashed, secret)

    def needs_rehash(self, hashed: str) -> bool:
        return bool(self.inner.needs_rehash(hashed))


@pytest.fixture
def other_engine(runtime) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    """Another worker's connections, to see whether a row is locked."""
    engine = sa.create_engine(runtime.settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def watcher(runtime, other_engine):  # type: ignore[no-untyped-def]
    """A hasher that records, at each use, the runtime's checked-out connections and the row's lock."""
    seen: list[tuple[int, str]] = []

    def make(account_id: str | None) -> WatchingHasher:
        def watch() -> None:
            row = "-"
            if account_id is not None:
                with other_engine.connect() as conn:
                    try:
                        conn.execute(
                            sa.select(accounts.c.id)
                            .where(accounts.c.id == account_id)
                            .with_for_update(nowait=True)
                        ).one()
                        row = "free"
                    except OperationalError:
                        row = "locked"
                    conn.rollback()
            seen.append((runtime.engine.pool.checkedout(), row))

        return WatchingHasher(runtime.hasher, watch), WatchingHasher(runtime.code_hasher, watch)

    make.seen = seen  # type: ignore[attr-defined]
    return make


@pytest.mark.parametrize("kind", ["keyed", "argon2 (issued before the keyed hash)"])
def test_activation_verifies_and_hashes_outside_the_transaction(runtime, watcher, kind) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    account = Account(id=uuid.uuid4(), email="azubi-20260700@example.org", name="Paul Probst", created_at=now)
    account.make_apprentice("20260700")
    code = account.issue_activation_code(now, timedelta(days=30), runtime.code_hasher)
    if kind != "keyed":
        assert account.activation is not None
        account.activation = Activation(runtime.hasher.hash(code), account.activation.expires_at)
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()

    hasher, code_hasher = watcher(str(account.id))
    handlers.activate_account(
        ActivateAccount("20260700", code, NEW_PASSWORD),
        runtime.uow_factory(),
        hasher=hasher,
        code_hasher=code_hasher,
        clock=lambda: datetime.now(UTC),
        shield=runtime.shield,
        links=AccountLinks("http://portal.test/auth"),
    )
    # The code's check and the new password's hash: no connection held, the row not locked.
    assert watcher.seen == [(0, "free"), (0, "free")]
    with runtime.engine.connect() as conn:
        assert conn.execute(
            sa.select(accounts.c.status).where(accounts.c.id == str(account.id))
        ).scalar() == ("active")
        events = conn.execute(sa.select(outbox.c.event_type)).scalars().all()
    assert AccountActivated.TYPE in events


def test_a_new_password_is_hashed_outside_the_transaction(runtime, watcher) -> None:  # type: ignore[no-untyped-def]
    clerk = demo_account("clerk")
    handlers.request_password_reset(
        RequestPasswordReset(clerk.login, link_prefix="http://portal.test/auth/password/reset/"),
        runtime.uow_factory(),
        clock=lambda: datetime.now(UTC),
        password_reset_valid_for=timedelta(hours=1),
    )
    with runtime.engine.connect() as conn:
        body = conn.execute(sa.select(outbox.c.body).order_by(outbox.c.position.desc())).scalars().first()
    token = json.loads(body)["payload"]["reset_url"].rsplit("/", 1)[1]

    hasher, _ = watcher(clerk.account_id)
    handlers.reset_password(
        ResetPassword(token, NEW_PASSWORD),
        runtime.uow_factory(),
        hasher=hasher,
        clock=lambda: datetime.now(UTC),
        links=AccountLinks("http://portal.test/auth"),
    )
    assert watcher.seen == [(0, "free")]
    with runtime.engine.connect() as conn:
        stored = conn.execute(
            sa.select(accounts.c.password_hash).where(accounts.c.id == clerk.account_id)
        ).scalar()
    assert runtime.hasher.verify(stored, NEW_PASSWORD)


def test_the_activation_code_is_hashed_before_the_transaction(
    runtime, watcher, contract_payload, incoming
) -> None:  # type: ignore[no-untyped-def]
    _, code_hasher = watcher(None)
    handlers.contract_registered(
        incoming(contract_payload()),
        runtime.uow_factory(),
        code_hasher=code_hasher,
        clock=lambda: datetime.now(UTC),
        activation_valid_for=timedelta(days=30),
    )
    assert watcher.seen == [(0, "-")]
    with runtime.engine.connect() as conn:
        stored = conn.execute(
            sa.select(accounts.c.activation_code_hash).where(accounts.c.activation_code_hash.is_not(None))
        ).scalar_one()
    assert stored.startswith("$hmac-sha256$k=")

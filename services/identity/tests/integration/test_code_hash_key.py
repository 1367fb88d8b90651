"""The activation codes' keyed hash on PostgreSQL: a code verifies only under the key it was hashed
with; after a rotation, the previous key (IDENTITY_CODE_HASH_PREVIOUS_KEYS) keeps printed codes valid."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from identity.adapters.orm import accounts
from identity.domain.commands import ActivateAccount
from identity.domain.model import Account, AccountStatus, InvalidActivation

OLD_KEY = "integration-old-code-hash-key-0123456789abcdef"
NEW_KEY = "integration-new-code-hash-key-0123456789abcdef"
NEW_PASSWORD = "Mein-neues-Passwort-2026"


def pending_with_code(runtime, number: str) -> str:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    account = Account(
        id=uuid.uuid4(), email=f"azubi-{number}@example.org", name="Paul Probst", created_at=now
    )
    account.make_apprentice(number)
    code = account.issue_activation_code(now, timedelta(days=30), runtime.code_hasher)
    with runtime.uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()
    return code


def status_of(runtime, number: str) -> str:  # type: ignore[no-untyped-def]
    with runtime.engine.connect() as conn:
        return str(
            conn.execute(sa.select(accounts.c.status).where(accounts.c.apprentice_number == number)).scalar()
        )


def test_codes_verify_only_under_their_key_and_survive_a_rotation(make_runtime) -> None:  # type: ignore[no-untyped-def]
    before = make_runtime(IDENTITY_CODE_HASH_KEY=OLD_KEY)
    first = pending_with_code(before, "20260800")
    second = pending_with_code(before, "20260801")

    # Another key alone: the stored hash cannot be checked, the right code is refused.
    other = make_runtime(IDENTITY_CODE_HASH_KEY=NEW_KEY)
    with pytest.raises(InvalidActivation):
        other.bus.handle(ActivateAccount("20260800", first, NEW_PASSWORD))
    assert status_of(other, "20260800") == AccountStatus.PENDING_ACTIVATION

    # Rotated: the new key hashes new codes, the previous one still verifies the printed ones.
    rotated = make_runtime(IDENTITY_CODE_HASH_KEY=NEW_KEY, IDENTITY_CODE_HASH_PREVIOUS_KEYS=OLD_KEY)
    rotated.bus.handle(ActivateAccount("20260800", first, NEW_PASSWORD))
    assert status_of(rotated, "20260800") == AccountStatus.ACTIVE
    third = pending_with_code(rotated, "20260802")
    with rotated.engine.connect() as conn:
        stored = conn.execute(
            sa.select(accounts.c.activation_code_hash).where(accounts.c.apprentice_number == "20260802")
        ).scalar_one()
    assert stored.startswith(f"$hmac-sha256$k={rotated.code_hasher.current_key_id}$")
    rotated.bus.handle(ActivateAccount("20260802", third, NEW_PASSWORD))
    rotated.bus.handle(ActivateAccount("20260801", second, NEW_PASSWORD))
    assert {status_of(rotated, n) for n in ("20260801", "20260802")} == {AccountStatus.ACTIVE}

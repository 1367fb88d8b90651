"""Activation codes: human-typeable, hashed, expiring, one-time; password policy."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import AccountActivated
from identity.domain.commands import ActivateAccount
from identity.domain.model import (
    ACTIVATION_ALPHABET,
    Account,
    AccountStatus,
    ActivationCodeExpired,
    ActivationCodeUsed,
    InvalidActivation,
    PasswordPolicyViolation,
    new_activation_code,
    normalise_activation_code,
)
from identity.service_layer.handlers import TimingShield, activate_account

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(days=30)
NEW_PASSWORD = "Mein-neues-Passwort-2026"


@pytest.fixture
def pending(fake_uow, fast_hasher) -> tuple[Account, str]:
    account = Account(id=uuid.uuid4(), email="paul@example.org", name="Paul Probst")
    account.make_apprentice("20260101")
    code = account.issue_activation_code(NOW, VALID_FOR, fast_hasher)
    fake_uow.accounts.add(account)
    return account, code


def activate(fake_uow, fast_hasher, number: str, code: str, password: str = NEW_PASSWORD, now=NOW) -> Account:
    return activate_account(
        ActivateAccount(number, code, password),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: now,
        shield=TimingShield.for_hasher(fast_hasher),
    )


def test_codes_are_grouped_from_an_unambiguous_alphabet() -> None:
    codes = {new_activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{ACTIVATION_ALPHABET}]{{4}}(-[{ACTIVATION_ALPHABET}]{{4}}){{2}}", code)
    assert not set("01IOL") & set(ACTIVATION_ALPHABET)


def test_typed_code_is_normalised() -> None:
    assert normalise_activation_code(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"


def test_only_a_hash_of_the_code_is_kept(pending) -> None:
    account, code = pending
    assert account.activation is not None
    assert code not in account.activation.code_hash
    assert account.activation.code_hash.startswith("$argon2id$")


def test_activation_sets_the_password_and_emits_the_event(fake_uow, fast_hasher, pending) -> None:
    account, code = pending
    activate(fake_uow, fast_hasher, "20260101", code.lower().replace("-", " "))
    assert account.status is AccountStatus.ACTIVE
    assert fast_hasher.verify(account.password_hash or "", NEW_PASSWORD)
    [event] = fake_uow.events
    assert event.type == AccountActivated.TYPE
    assert event.payload["account_id"] == str(account.id)
    assert event.payload["apprentice_number"] == "20260101"


def test_code_works_only_once(fake_uow, fast_hasher, pending) -> None:
    _, code = pending
    activate(fake_uow, fast_hasher, "20260101", code)
    with pytest.raises(ActivationCodeUsed):
        activate(fake_uow, fast_hasher, "20260101", code, "Ein-anderes-Passwort-1")
    assert len(fake_uow.events) == 1


def test_expired_code_is_refused(fake_uow, fast_hasher, pending) -> None:
    account, code = pending
    with pytest.raises(ActivationCodeExpired):
        activate(fake_uow, fast_hasher, "20260101", code, now=NOW + VALID_FOR)
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert fake_uow.events == []


def test_code_is_valid_until_just_before_expiry(fake_uow, fast_hasher, pending) -> None:
    _, code = pending
    activate(fake_uow, fast_hasher, "20260101", code, now=NOW + VALID_FOR - timedelta(seconds=1))


@pytest.mark.parametrize("number", ["20260101", "20269999"])
def test_wrong_code_or_unknown_number_fail_alike(fake_uow, fast_hasher, pending, number) -> None:
    with pytest.raises(InvalidActivation):
        activate(fake_uow, fast_hasher, number, "AAAA-BBBB-CCCC")


def test_short_password_is_refused(fake_uow, fast_hasher, pending) -> None:
    account, code = pending
    with pytest.raises(PasswordPolicyViolation):
        activate(fake_uow, fast_hasher, "20260101", code, "elf-Zeichen")
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert account.activation is not None and account.activation.used_at is None


def test_reissuing_replaces_the_earlier_code(fast_hasher, fake_uow, pending) -> None:
    account, first = pending
    second = account.issue_activation_code(NOW, VALID_FOR, fast_hasher)
    with pytest.raises(InvalidActivation):
        activate(fake_uow, fast_hasher, "20260101", first)
    activate(fake_uow, fast_hasher, "20260101", second)

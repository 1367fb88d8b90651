"""Activation codes: human-typeable, hashed (keyed), expiring, one-time; password policy."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import AccountActivated
from identity.adapters import codes
from identity.adapters.codes import KeyedCodeHasher
from identity.domain.commands import ActivateAccount
from identity.domain.model import (
    ACTIVATION_ALPHABET,
    Account,
    AccountStatus,
    Activation,
    ActivationCodeExpired,
    ActivationCodeUsed,
    InvalidActivation,
    new_activation_code,
    normalise_activation_code,
)
from identity.domain.password_policy import PasswordPolicyViolation
from identity.service_layer.handlers import TimingShield, activate_account
from identity.service_layer.links import AccountLinks

LINKS = AccountLinks("https://portal.example/idp")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(days=30)
NEW_PASSWORD = "Mein-neues-Passwort-2026"


@pytest.fixture
def pending(fake_uow, code_hasher) -> tuple[Account, str]:
    account = Account(id=uuid.uuid4(), email="paul@example.org", name="Paul Probst")
    account.make_apprentice("20260101")
    code = account.issue_activation_code(NOW, VALID_FOR, code_hasher)
    fake_uow.accounts.add(account)
    return account, code


@pytest.fixture
def activate(fake_uow, fast_hasher, code_hasher):  # type: ignore[no-untyped-def]
    shield = TimingShield.for_hashers(fast_hasher, code_hasher)

    def activate(number: str, code: str, password: str = NEW_PASSWORD, now=NOW) -> Account:  # type: ignore[no-untyped-def]
        return activate_account(
            ActivateAccount(number, code, password),
            fake_uow,
            hasher=fast_hasher,
            code_hasher=code_hasher,
            clock=lambda: now,
            shield=shield,
            links=LINKS,
        )

    return activate


def test_codes_are_grouped_from_an_unambiguous_alphabet() -> None:
    codes = {new_activation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{ACTIVATION_ALPHABET}]{{4}}(-[{ACTIVATION_ALPHABET}]{{4}}){{2}}", code)
    assert not set("01IOL") & set(ACTIVATION_ALPHABET)


def test_typed_code_is_normalised() -> None:
    assert normalise_activation_code(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"


def test_only_a_keyed_hash_of_the_code_is_kept(pending, code_hasher) -> None:
    account, code = pending
    assert account.activation is not None
    assert code not in account.activation.code_hash
    assert account.activation.code_hash.startswith(f"$hmac-sha256$k={code_hasher.current_key_id}$")


def test_activation_sets_the_password_and_emits_the_event(activate, fake_uow, fast_hasher, pending) -> None:
    account, code = pending
    activate("20260101", code.lower().replace("-", " "))
    assert account.status is AccountStatus.ACTIVE
    assert fast_hasher.verify(account.password_hash or "", NEW_PASSWORD)
    event, changed = fake_uow.events
    assert event.type == AccountActivated.TYPE
    assert event.payload["account_id"] == str(account.id)
    assert event.payload["apprentice_number"] == "20260101"
    # The owner is told that a password was set (without it).
    assert changed.type == "identity.password.changed"
    assert changed.payload["how"] == "activation"
    assert NEW_PASSWORD not in str(changed.payload)
    assert fake_uow.audit.kinds() == ["account.activated"]


def test_code_works_only_once(activate, fake_uow, pending) -> None:
    _, code = pending
    activate("20260101", code)
    with pytest.raises(ActivationCodeUsed):
        activate("20260101", code, "Ein-anderes-Passwort-1")
    assert len(fake_uow.events) == 2


def test_expired_code_is_refused(activate, fake_uow, pending) -> None:
    account, code = pending
    with pytest.raises(ActivationCodeExpired):
        activate("20260101", code, now=NOW + VALID_FOR)
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert fake_uow.events == []


def test_code_is_valid_until_just_before_expiry(activate, pending) -> None:
    _, code = pending
    activate("20260101", code, now=NOW + VALID_FOR - timedelta(seconds=1))


@pytest.mark.parametrize("number", ["20260101", "20269999"])
def test_wrong_code_or_unknown_number_fail_alike(activate, pending, number) -> None:
    with pytest.raises(InvalidActivation):
        activate(number, "AAAA-BBBB-CCCC")


def test_short_password_is_refused(activate, pending) -> None:
    account, code = pending
    with pytest.raises(PasswordPolicyViolation):
        activate("20260101", code, "elf-Zeichen")
    assert account.status is AccountStatus.PENDING_ACTIVATION
    assert account.activation is not None and account.activation.used_at is None


def test_reissuing_replaces_the_earlier_code(activate, code_hasher, pending) -> None:
    account, first = pending
    second = account.issue_activation_code(NOW, VALID_FOR, code_hasher)
    with pytest.raises(InvalidActivation):
        activate("20260101", first)
    activate("20260101", second)


# -- codes issued before the keyed hash (argon2id) -----------------------------------------------------------
@pytest.fixture
def pending_with_argon2_code(fake_uow, fast_hasher) -> tuple[Account, str]:
    """An account prepared before the keyed hash: its printed code is stored as argon2id."""
    account = Account(id=uuid.uuid4(), email="alt@example.org", name="Anna Alt")
    account.make_apprentice("20260102")
    code = new_activation_code()
    account.activation = Activation(code_hash=fast_hasher.hash(code), expires_at=NOW + VALID_FOR)
    fake_uow.accounts.add(account)
    return account, code


def test_a_code_hashed_with_argon2_before_still_activates(activate, pending_with_argon2_code) -> None:
    account, code = pending_with_argon2_code
    assert account.activation is not None and account.activation.code_hash.startswith("$argon2id$")
    with pytest.raises(InvalidActivation):
        activate("20260102", "AAAA-BBBB-CCCC")
    activate("20260102", code.lower())
    assert account.status is AccountStatus.ACTIVE


class CountingHasher:
    """An argon2 hasher that counts its verifications."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.verified = 0

    def hash(self, secret: str) -> str:
        return self.inner.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.verified += 1
        return self.inner.verify(hashed, secret)

    def needs_rehash(self, hashed: str) -> bool:
        return self.inner.needs_rehash(hashed)


@pytest.mark.parametrize("accept_argon2", [True, False])
def test_every_failing_path_spends_the_same_work(
    fake_uow, fast_hasher, pending, pending_with_argon2_code, monkeypatch, accept_argon2
) -> None:
    """Unknown Azubinummer, an account without a code, a wrong code against a keyed hash and
    against an argon2 hash: the same hashing work each, so the timing tells none apart."""
    counting = CountingHasher(fast_hasher)
    code_hasher = KeyedCodeHasher("x" * 40, legacy=counting if accept_argon2 else None)
    macs: list[int] = []
    real_mac = codes.KeyedCodeHasher._mac
    monkeypatch.setattr(
        codes.KeyedCodeHasher, "_mac", staticmethod(lambda key, code: macs.append(1) or real_mac(key, code))
    )
    for account, _ in (pending, pending_with_argon2_code):
        assert account.activation is not None
        if account.activation.code_hash.startswith("$hmac"):
            account.activation = Activation(code_hasher.hash(new_activation_code()), NOW + VALID_FOR)
    active = Account(id=uuid.uuid4(), email="ohne@example.org", name="Ohne Code", status=AccountStatus.ACTIVE)
    active.make_apprentice("20260103")
    fake_uow.accounts.add(active)
    shield = TimingShield.for_hashers(fast_hasher, code_hasher)
    spent = []
    for number in ("20269999", "20260103", "20260101", "20260102"):
        macs.clear()
        counting.verified = 0
        with pytest.raises(InvalidActivation):
            activate_account(
                ActivateAccount(number, "AAAA-BBBB-CCCC", NEW_PASSWORD),
                fake_uow,
                hasher=fast_hasher,
                code_hasher=code_hasher,
                clock=lambda: NOW,
                shield=shield,
                links=LINKS,
            )
        spent.append((len(macs), counting.verified))
    expected = (1, 1) if accept_argon2 else (1, 0)
    assert spent == [expected] * 4

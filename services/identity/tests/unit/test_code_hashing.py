"""The keyed hash of activation codes (HMAC-SHA256), its key, rotation, and the argon2 codes from before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chassis.config import ConfigurationError, MissingSecret, ServiceSettings
from identity.adapters.codes import KeyedCodeHasher, key_id
from identity.config import IdentityConfig
from identity.domain.model import new_activation_code

KEY = "current-code-hash-key-0123456789abcdefghij"
OLD_KEY = "previous-code-hash-key-0123456789abcdefghij"
OTHER_KEY = "someone-elses-code-hash-key-0123456789abcd"


def test_a_keyed_hash_verifies_its_code_only() -> None:
    hasher = KeyedCodeHasher(KEY)
    code = new_activation_code()
    stored = hasher.hash(code)
    assert re.fullmatch(rf"\$hmac-sha256\$k={key_id(KEY)}\$[0-9a-f]{{64}}", stored)
    assert code not in stored
    assert hasher.verify(stored, code)
    assert not hasher.verify(stored, new_activation_code())
    # Deterministic under one key (no salt needed: the key is the secret, codes are random).
    assert hasher.hash(code) == stored


def test_the_key_id_names_the_key_without_revealing_it() -> None:
    assert re.fullmatch(r"[0-9a-f]{8}", key_id(KEY))
    assert key_id(KEY) != key_id(OLD_KEY)
    assert key_id(KEY) not in KEY.encode().hex()


def test_a_hash_made_with_another_key_does_not_verify() -> None:
    code = new_activation_code()
    stored = KeyedCodeHasher(OTHER_KEY).hash(code)
    assert not KeyedCodeHasher(KEY).verify(stored, code)
    # Not even when the stored hash claims to be under the current key: the digest is the other key's.
    forged = stored.replace(key_id(OTHER_KEY), key_id(KEY))
    assert not KeyedCodeHasher(KEY).verify(forged, code)


def test_a_tampered_or_malformed_hash_does_not_verify() -> None:
    hasher = KeyedCodeHasher(KEY)
    code = new_activation_code()
    stored = hasher.hash(code)
    flipped = stored[:-1] + ("0" if stored[-1] != "0" else "1")
    for bad in (flipped, stored[:-2], f"$hmac-sha256$k={key_id(KEY)}", "", "plain-text", stored + "ä"):
        assert not hasher.verify(bad, code), bad


def test_after_rotation_codes_of_the_previous_key_still_verify() -> None:
    code = new_activation_code()
    before = KeyedCodeHasher(OLD_KEY).hash(code)
    rotated = KeyedCodeHasher(KEY, previous_keys=[OLD_KEY])
    assert rotated.verify(before, code)
    assert not rotated.verify(before, new_activation_code())
    # New codes are hashed under the new key.
    assert rotated.hash(code).startswith(f"$hmac-sha256$k={key_id(KEY)}$")
    # Once the previous key is dropped, its codes no longer verify.
    assert not KeyedCodeHasher(KEY).verify(before, code)


def test_legacy_argon2_hashes_verify_while_accepted(fast_hasher) -> None:  # type: ignore[no-untyped-def]
    code = new_activation_code()
    legacy = fast_hasher.hash(code)
    assert legacy.startswith("$argon2id$")
    accepting = KeyedCodeHasher(KEY, legacy=fast_hasher)
    assert accepting.verify(legacy, code)
    assert not accepting.verify(legacy, new_activation_code())
    # Turned off (IDENTITY_ACCEPT_ARGON2_CODES=0): an argon2 hash verifies nothing.
    assert not KeyedCodeHasher(KEY).verify(legacy, code)
    # New codes are never argon2, accepted or not.
    assert accepting.hash(code).startswith("$hmac-sha256$")


def test_two_keys_with_one_id_are_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("identity.adapters.codes.key_id", lambda key: "00000000")
    with pytest.raises(ConfigurationError, match="same id"):
        KeyedCodeHasher(KEY, previous_keys=[OLD_KEY])
    KeyedCodeHasher(KEY, previous_keys=[KEY])  # the same key twice is harmless


# -- configuration ---------------------------------------------------------------------------------
def config_from(env: dict[str, str], tmp_path: Path) -> IdentityConfig:
    env = {"BP_DATA_DIR": str(tmp_path), "BP_MODE": "embedded"} | env
    return IdentityConfig.from_settings(ServiceSettings.from_env("identity", env), env)


def test_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    config = config_from(
        {
            "IDENTITY_CODE_HASH_KEY": KEY,
            "IDENTITY_CODE_HASH_PREVIOUS_KEYS": f" {OLD_KEY}, {OTHER_KEY} ",
            "IDENTITY_ACCEPT_ARGON2_CODES": "0",
        },
        tmp_path,
    )
    assert config.code_hash.keys() == (KEY, (OLD_KEY, OTHER_KEY))
    assert config.code_hash.accept_argon2 is False
    assert KEY not in repr(config)
    assert not (tmp_path / "secrets").exists()


def test_the_embedded_mode_generates_the_key_once(tmp_path: Path) -> None:
    config = config_from({}, tmp_path)
    key, previous = config.code_hash.keys()
    assert len(key) >= 32 and previous == ()
    assert config.code_hash.accept_argon2 is True  # codes printed before the keyed hash stay valid
    assert (tmp_path / "secrets" / "IDENTITY_CODE_HASH_KEY").read_text() == key
    assert config_from({}, tmp_path).code_hash.keys()[0] == key


def test_outside_the_embedded_mode_a_missing_key_stops_the_start(tmp_path: Path) -> None:
    config = config_from({"BP_MODE": "distributed"}, tmp_path)
    with pytest.raises(MissingSecret, match=r"^IDENTITY_CODE_HASH_KEY is not set"):
        config.code_hash.keys()
    assert not (tmp_path / "secrets").exists()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"IDENTITY_CODE_HASH_KEY": "kurz"}, "IDENTITY_CODE_HASH_KEY"),
        (
            {"IDENTITY_CODE_HASH_KEY": KEY, "IDENTITY_CODE_HASH_PREVIOUS_KEYS": "kurz"},
            "IDENTITY_CODE_HASH_PREVIOUS_KEYS",
        ),
    ],
)
def test_a_short_key_is_refused(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{named}: a key has fewer than 32 characters"):
        config_from(env, tmp_path).code_hash.keys()

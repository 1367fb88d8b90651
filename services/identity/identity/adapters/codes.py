"""Keyed hashing of one-time activation codes: HMAC-SHA256 with a key kept outside the database.

An activation code has ~59 random bits and lives 30 days. argon2 (the password hash) made
a bulk import of contracts spend minutes hashing; a keyed hash costs microseconds and is
stronger where it matters: a leaked database alone does not allow guessing a code at all,
because every guess needs the key (``IDENTITY_CODE_HASH_KEY``), which is not in it.

Stored form: ``$hmac-sha256$k=<key id>$<64 hex digits>``. The key id (8 hex digits of an
HMAC of a fixed label under the key) names the key without revealing it, so that a key can
be rotated: the new key hashes new codes, and codes hashed under a previous key
(``IDENTITY_CODE_HASH_PREVIOUS_KEYS``) still verify while that key is configured.

Codes issued before the keyed hash are stored as argon2id hashes (``$argon2…``); with
``legacy`` (the password hasher) they still verify, so no letter already printed becomes
invalid. While that is on, **every** verification costs one HMAC and one argon2
verification, whatever the stored kind (a keyed hash or the timing shield's dummy spends a
dummy argon2 verification): a wrong code for an account with an old argon2 hash must not
take longer than one for an account with a keyed hash or for an unknown Azubinummer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from chassis.config import ConfigurationError
from identity.domain.model import PasswordHasher

log = logging.getLogger(__name__)

PREFIX = "$hmac-sha256$"
LEGACY_PREFIX = "$argon2"
# Domain separation: the key hashes activation codes and nothing else.
PURPOSE = b"bildungsportal/identity/activation-code\x00"
KEY_ID_LABEL = b"bildungsportal/identity/code-hash-key-id"


def key_id(key: str) -> str:
    """A short public name of ``key`` (8 hex digits); reveals nothing about the key."""
    return hmac.new(key.encode("utf-8"), KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]


class KeyedCodeHasher:
    """HMAC-SHA256 under the current key; previous keys and (optionally) argon2 for verifying only."""

    def __init__(
        self, key: str, *, previous_keys: Iterable[str] = (), legacy: PasswordHasher | None = None
    ) -> None:
        self._current_id = key_id(key)
        self._keys: dict[str, bytes] = {}
        for candidate in (key, *previous_keys):
            kid = key_id(candidate)
            known = self._keys.get(kid)
            if known is not None and known != candidate.encode("utf-8"):
                # 32-bit ids: two keys sharing one would make every code of one of them fail.
                raise ConfigurationError(
                    f"IDENTITY_CODE_HASH_KEY: two configured keys have the same id {kid}; generate a new key"
                )
            self._keys[kid] = candidate.encode("utf-8")
        self._legacy = legacy
        # What a keyed verification spends on argon2 while argon2 codes are accepted.
        self._legacy_dummy = legacy.hash("no activation code is this") if legacy is not None else None

    @property
    def current_key_id(self) -> str:
        return self._current_id

    def hash(self, code: str) -> str:
        return f"{PREFIX}k={self._current_id}${self._mac(self._keys[self._current_id], code)}"

    def verify(self, hashed: str, code: str) -> bool:
        """Constant-time comparison; the same work for every kind of stored hash (see the module)."""
        key, expected = self._keyed_parts(hashed)
        digest = self._mac(key, code)
        keyed_match = expected is not None and hmac.compare_digest(digest.encode(), expected.encode())
        if self._legacy is None:
            return keyed_match
        assert self._legacy_dummy is not None
        is_legacy = hashed.startswith(LEGACY_PREFIX)
        legacy_match = self._legacy.verify(hashed if is_legacy else self._legacy_dummy, code)
        return keyed_match or (is_legacy and legacy_match)

    @staticmethod
    def _mac(key: bytes, code: str) -> str:
        return hmac.new(key, PURPOSE + code.encode("utf-8"), hashlib.sha256).hexdigest()

    def _keyed_parts(self, hashed: str) -> tuple[bytes, str | None]:
        """The key and digest of a keyed hash; else the current key (the same work) and no digest."""
        current = self._keys[self._current_id]
        if not hashed.startswith(PREFIX):
            return current, None
        kid, separator, digest = hashed[len(PREFIX) :].partition("$")
        key = self._keys.get(kid.removeprefix("k="))
        if not separator or key is None:
            log.warning(
                "an activation code hash names key %s, which is not configured "
                "(IDENTITY_CODE_HASH_KEY, IDENTITY_CODE_HASH_PREVIOUS_KEYS); the code cannot be checked",
                kid,
            )
            return current, None
        return key, digest

"""The token signing keys: a rotating set in identity's database, shared by every process.

A key's life (times in the ``signing_keys`` row, so every gunicorn worker and replica
reaches the same answer from the same rows and its own clock):

1. **published** from ``created_at``: in the JWKS, not yet signing. Validators that cached
   the JWKS before (chassis' ``JwksClient`` keeps it ``ttl`` seconds, HTTP caches 300 s)
   fetch it before the first token it signs reaches them.
2. **signing** from ``signs_from``: the newest key whose ``signs_from`` has come signs.
3. **retiring**: once a successor signs, ``retire_at`` is set to the successor's
   ``signs_from`` plus the token lifetime and a margin; until then the key stays in the
   JWKS, so every token it signed validates until it expires.
4. **retired** after ``retire_at``: out of the JWKS; ``rotate`` deletes the row (the
   private half is gone).

``rotate`` (``bp-identity rotate-keys``, or the ``key-rotation`` worker) performs the steps.
Every process reads the rows at most every ``refresh_seconds`` (and again on a token with
an unknown ``kid``, at most every ``min_refresh`` seconds), so the publication lead must be
longer than that plus the validators' caching.

``IDENTITY_SIGNING_KEY_FILE`` (a PEM or JWK from a secret store) takes precedence over the
database; the secret store then rotates it, and ``rotate`` refuses.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from identity.adapters.orm import server_secrets, signing_keys

ALGORITHM = "RS256"
# The row of server_secrets that serialises changes to the key set (it held the one key
# before the key set existed; migration 0008 moved that key into signing_keys).
GUARD = "access-token-signing-key"
GUARD_VALUE = "signing_keys"
# Clocks of identity's processes and of the validators may differ by this much.
CLOCK_SKEW = timedelta(seconds=60)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _generate_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex, "use": "sig", "alg": ALGORITHM})


def _load_key_file(path: str) -> RSAKey:
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        data.setdefault("use", "sig")
        data.setdefault("alg", ALGORITHM)
        return RSAKey.import_key(data)
    key = RSAKey.import_key(text)
    # A PEM has no key id; derive a stable one from the public key (RFC 7638).
    return RSAKey.import_key(
        key.as_dict(private=True) | {"kid": key.thumbprint(), "use": "sig", "alg": ALGORITHM}
    )


@dataclass(frozen=True)
class StoredKey:
    key: RSAKey
    created_at: datetime
    signs_from: datetime
    retire_at: datetime | None

    @property
    def kid(self) -> str:
        kid = self.key.kid
        assert kid is not None
        return kid

    def published(self, now: datetime) -> bool:
        return self.created_at <= now and (self.retire_at is None or now < self.retire_at)

    def state(self, now: datetime, signing_kid: str | None) -> str:
        if not self.published(now):
            return "retired" if self.retire_at is not None and now >= self.retire_at else "unpublished"
        if self.kid == signing_kid:
            return "signing"
        return "published" if now < self.signs_from else "retiring"


@dataclass(frozen=True)
class KeyRing:
    """The keys as read at one moment; which one signs depends on the time asked."""

    keys: tuple[StoredKey, ...]

    def published(self, now: datetime) -> list[StoredKey]:
        return [key for key in self.keys if key.published(now)]

    def signing(self, now: datetime) -> StoredKey | None:
        due = [key for key in self.published(now) if key.signs_from <= now]
        return max(due, key=lambda key: key.signs_from) if due else None


@dataclass(frozen=True)
class RotationPolicy:
    """How long a new key is published before it signs, and how long tokens live."""

    publish_lead: timedelta
    token_lifetime: timedelta

    def retire_at(self, successor_signs_from: datetime) -> datetime:
        return successor_signs_from + self.token_lifetime + CLOCK_SKEW


@dataclass(frozen=True)
class RotationReport:
    added: str | None  # the kid of a key published now
    retiring: tuple[str, ...]  # kids given a retirement time now
    deleted: tuple[str, ...]  # kids of retired keys removed now
    pending: str | None  # a key already published and not yet signing (nothing added then)


# A private JWK as stored -> its parsed key. Importing a private RSA key checks it (tens of
# milliseconds); every process reads the rows every ``refresh_seconds``, and a key's row never
# changes its JWK, so each is parsed once per process. Deleted keys leave with the next read.
ParsedKeys = dict[str, RSAKey]


def _row_to_key(
    row: sa.Row[tuple[str, str, datetime, datetime, datetime | None]], parsed: ParsedKeys
) -> StoredKey:
    key = parsed.get(row.private_jwk)
    if key is None:
        key = RSAKey.import_key(json.loads(row.private_jwk))
    return StoredKey(key=key, created_at=row.created_at, signs_from=row.signs_from, retire_at=row.retire_at)


def _insert_key(conn: Connection, key: RSAKey, *, created_at: datetime, signs_from: datetime) -> None:
    conn.execute(
        sa.insert(signing_keys).values(
            kid=key.kid,
            private_jwk=json.dumps(key.as_dict(private=True)),
            created_at=created_at,
            signs_from=signs_from,
            retire_at=None,
        )
    )


def _lock_guard(conn: Connection, now: datetime) -> None:
    """Serialise changes to the key set: the guard row, created by the first to come, locked."""
    exists = conn.execute(
        sa.select(server_secrets.c.name).where(server_secrets.c.name == GUARD).with_for_update()
    ).first()
    if exists is None:
        # Two processes may both get here; the primary key lets one insert win, and the
        # other's transaction fails (IntegrityError) after the winner committed.
        conn.execute(sa.insert(server_secrets).values(name=GUARD, value=GUARD_VALUE, created_at=now))


def _read_keys(conn: Connection, parsed: ParsedKeys | None = None) -> KeyRing:
    """The key set's rows; ``parsed`` (updated to the rows read) keeps keys parsed before."""
    rows = conn.execute(sa.select(signing_keys).order_by(signing_keys.c.signs_from)).all()
    known = parsed if parsed is not None else {}
    ring = KeyRing(tuple(_row_to_key(row, known) for row in rows))
    if parsed is not None:
        parsed.clear()
        parsed.update((row.private_jwk, stored.key) for row, stored in zip(rows, ring.keys, strict=True))
    return ring


class KeyStore:
    """The signing key and the JWKS, read lazily (the database may be migrated after the app
    is built) and again every ``refresh_seconds``.

    The login session and CSRF tokens are signed with ``IDENTITY_SECRET_KEY`` instead
    (chassis' secrets policy), which needs no database.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        signing_key_file: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        refresh_seconds: float = 30.0,
        min_refresh: float = 2.0,
    ) -> None:
        self._engine = engine
        self._signing_key_file = signing_key_file
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self.min_refresh = min_refresh
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._loaded_at = 0.0
        self._parsed: ParsedKeys = {}  # guarded by _lock, as _ring is

    def now(self) -> datetime:
        """The time by this store's clock (the key set's times are compared with it)."""
        return self._clock()

    # -- reading ------------------------------------------------------------------------------
    def ring(self, *, force: bool = False) -> KeyRing:
        elapsed = time.monotonic() - self._loaded_at
        if self._ring is None or elapsed > self.refresh_seconds or (force and elapsed > self.min_refresh):
            with self._lock:
                elapsed = time.monotonic() - self._loaded_at
                if (
                    self._ring is None
                    or elapsed > self.refresh_seconds
                    or (force and elapsed > self.min_refresh)
                ):
                    self._ring = self._load()
                    self._loaded_at = time.monotonic()
        return self._ring

    def reload(self) -> None:
        """Read the keys again now (after a rotation in this process, and in tests)."""
        with self._lock:
            self._ring = None
            self._loaded_at = 0.0

    def _load(self) -> KeyRing:
        if self._signing_key_file:
            epoch = datetime(1970, 1, 1, tzinfo=UTC)
            return KeyRing((StoredKey(_load_key_file(self._signing_key_file), epoch, epoch, None),))
        with self._engine.connect() as conn:
            ring = _read_keys(conn, self._parsed)
        if ring.signing(self._clock()) is None:
            ring = self._create_first_key()
        return ring

    def _create_first_key(self) -> KeyRing:
        """A fresh database (or every key retired): one key that signs at once."""
        now = self._clock()
        try:
            with self._engine.begin() as conn:
                _lock_guard(conn, now)
                ring = _read_keys(conn)
                if ring.signing(now) is None:
                    _insert_key(conn, _generate_key(), created_at=now, signs_from=now)
        except IntegrityError:
            pass  # another process created the guard (and its key) at the same moment
        with self._engine.connect() as conn:
            return _read_keys(conn, self._parsed)

    @property
    def signing_key(self) -> RSAKey:
        """The private key that signs now; its ``kid`` goes into the token's header."""
        ring = self.ring()  # first: reading may create the first key, at the clock's now
        current = ring.signing(self._clock())
        if current is None:  # the cached rows predate a key that signs: read them again
            ring = self.ring(force=True)
            current = ring.signing(self._clock())
        assert current is not None, "the key set has no key that signs"
        return current.key

    @property
    def kid(self) -> str:
        kid = self.signing_key.kid
        assert kid is not None
        return kid

    def public_key_set(self, force: bool = False) -> KeySet:
        """The published keys' public halves; ``force`` (chassis' TokenValidator, on a token
        whose key is not in the set) reads the database again, at most every ``min_refresh``."""
        ring = self.ring(force=force)
        return KeySet(
            [RSAKey.import_key(k.key.as_dict(private=False)) for k in ring.published(self._clock())]
        )

    def public_jwks(self) -> dict[str, object]:
        ring = self.ring()
        return {"keys": [k.key.as_dict(private=False) for k in ring.published(self._clock())]}

    # -- rotating -------------------------------------------------------------------------------
    def rotate(self, policy: RotationPolicy, *, add: bool = True) -> RotationReport:
        """One idempotent step: remove retired keys, publish a successor (unless one is already
        waiting, or ``add`` is false) and give every key it supersedes its retirement time."""
        if self._signing_key_file:
            raise RuntimeError("The signing key comes from IDENTITY_SIGNING_KEY_FILE; rotate it there.")
        now = self._clock()
        with self._engine.begin() as conn:
            _lock_guard(conn, now)
            deleted = tuple(
                conn.execute(
                    sa.delete(signing_keys)
                    .where(signing_keys.c.retire_at.is_not(None), signing_keys.c.retire_at <= now)
                    .returning(signing_keys.c.kid)
                ).scalars()
            )
            ring = _read_keys(conn)
            waiting = [key for key in ring.keys if key.signs_from > now]
            added: str | None = None
            if waiting or not add:
                successor = max(waiting, key=lambda key: key.signs_from) if waiting else None
            else:
                new = _generate_key()
                signs_from = now + policy.publish_lead
                _insert_key(conn, new, created_at=now, signs_from=signs_from)
                added = new.kid
                successor = StoredKey(new, now, signs_from, None)
            retiring: tuple[str, ...] = ()
            if successor is not None:
                retire_at = policy.retire_at(successor.signs_from)
                superseded = [
                    key.kid
                    for key in ring.keys
                    if key.kid != successor.kid
                    and key.signs_from < successor.signs_from
                    and key.retire_at is None
                ]
                if superseded:
                    conn.execute(
                        sa.update(signing_keys)
                        .where(signing_keys.c.kid.in_(superseded))
                        .values(retire_at=retire_at)
                    )
                retiring = tuple(superseded)
        self.reload()
        return RotationReport(
            added=added,
            retiring=retiring,
            deleted=deleted,
            pending=None if added else (successor.kid if successor is not None else None),
        )

    def describe(self) -> list[dict[str, str]]:
        """Each key with its state and times (no private parts), for ``bp-identity keys``."""
        ring = self.ring(force=True)
        now = self._clock()
        signing = ring.signing(now)
        return [
            {
                "kid": key.kid,
                "state": key.state(now, signing.kid if signing else None),
                "published_from": key.created_at.isoformat(),
                "signs_from": key.signs_from.isoformat(),
                "retire_at": key.retire_at.isoformat() if key.retire_at else "",
            }
            for key in ring.keys
        ]

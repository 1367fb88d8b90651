"""The token signing key, which every worker must share.

Generated once on first use and stored in identity's database. Two workers
starting at once may both generate one; the primary key lets exactly one
insert win and the loser reads the winner's value. ``IDENTITY_SIGNING_KEY_FILE``
(a PEM or JWK file from a secret store) takes precedence over the database.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from identity.adapters.orm import server_secrets

SIGNING_KEY = "access-token-signing-key"
ALGORITHM = "RS256"


def get_or_create_secret(engine: Engine, name: str, generate: Callable[[], str]) -> str:
    with engine.connect() as conn:
        value = conn.execute(sa.select(server_secrets.c.value).where(server_secrets.c.name == name)).scalar()
        if value is not None:
            return str(value)
    candidate = generate()
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(server_secrets).values(name=name, value=candidate, created_at=datetime.now(UTC))
            )
        return candidate
    except IntegrityError:
        # Another worker won the race; everyone uses its value.
        with engine.connect() as conn:
            return str(
                conn.execute(
                    sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
                ).scalar_one()
            )


def _generate_signing_key() -> str:
    key = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex, "use": "sig", "alg": ALGORITHM})
    return json.dumps(key.as_dict(private=True))


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


class KeyStore:
    """Loads the signing key lazily (the database may be migrated after the app is built).

    The login session and CSRF tokens are signed with ``IDENTITY_SECRET_KEY`` instead
    (chassis' secrets policy), which needs no database.
    """

    def __init__(self, engine: Engine, *, signing_key_file: str | None = None) -> None:
        self._engine = engine
        self._signing_key_file = signing_key_file
        self._lock = threading.Lock()
        self._signing_key: RSAKey | None = None

    @property
    def signing_key(self) -> RSAKey:
        if self._signing_key is None:
            with self._lock:
                if self._signing_key is None:
                    if self._signing_key_file:
                        self._signing_key = _load_key_file(self._signing_key_file)
                    else:
                        raw = get_or_create_secret(self._engine, SIGNING_KEY, _generate_signing_key)
                        self._signing_key = RSAKey.import_key(json.loads(raw))
        return self._signing_key

    @property
    def kid(self) -> str:
        kid = self.signing_key.kid
        assert kid is not None
        return kid

    def public_key_set(self, force: bool = False) -> KeySet:
        """The JWKS (public halves only); ``force`` is accepted for chassis' TokenValidator."""
        public = RSAKey.import_key(self.signing_key.as_dict(private=False))
        return KeySet([public])

    def public_jwks(self) -> dict[str, object]:
        return {"keys": [self.signing_key.as_dict(private=False)]}

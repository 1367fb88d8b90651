"""The users' token sets, kept server-side and refreshed one request at a time."""

from __future__ import annotations

import secrets
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from gateway.web.store import token_sets

# Refresh a little before the access token expires, so that a service never
# sees it expire between our check and its own.
EXPIRY_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class TokenSet:
    id: str
    subject: str
    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: float
    claims: Mapping[str, Any] = field(default_factory=dict)

    def expiring(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    @classmethod
    def from_token_response(
        cls, token: Mapping[str, Any], claims: Mapping[str, Any], *, token_set_id: str | None = None
    ) -> TokenSet:
        return cls(
            id=token_set_id or secrets.token_urlsafe(24),
            subject=str(claims["sub"]),
            access_token=str(token["access_token"]),
            refresh_token=token.get("refresh_token"),
            id_token=token.get("id_token"),
            expires_at=expires_at(token),
            claims=dict(claims),
        )


def expires_at(token: Mapping[str, Any]) -> float:
    if token.get("expires_at"):
        return float(token["expires_at"])
    return time.time() + float(token.get("expires_in") or 300)


Refresher = Callable[[TokenSet], TokenSet]


class TokenStore:
    """Token sets by id; the session only knows the id."""

    _STRIPES = 64

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Threads of one process refresh the same token set one at a time;
        # across processes, the row lock (PostgreSQL) does the same.
        self._locks = [threading.Lock() for _ in range(self._STRIPES)]

    def save(self, token_set: TokenSet) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(token_sets).values(**_row(token_set)))

    def get(self, token_set_id: str) -> TokenSet | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(token_sets).where(token_sets.c.id == token_set_id)).first()
        return None if row is None else _token_set(row._mapping)

    def delete(self, token_set_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(token_sets).where(token_sets.c.id == token_set_id))

    def delete_stale(self, older_than: timedelta) -> None:
        """Forget token sets nobody used or refreshed for longer than a session can live."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(token_sets).where(token_sets.c.updated_at < datetime.now(UTC) - older_than)
            )

    def fresh(self, token_set_id: str, refresh: Refresher, *, force: bool = False) -> TokenSet | None:
        """The token set with a usable access token, refreshing it when it expires (``force``: now).

        Whoever refreshes first rotates the refresh token; everyone waiting on
        the lock then reads the rotated set instead of refreshing again.
        """
        current = self.get(token_set_id)
        if current is None or not (force or current.expiring()):
            return current
        lock = self._locks[zlib.crc32(token_set_id.encode()) % self._STRIPES]
        with lock, self.engine.begin() as connection:
            row = connection.execute(
                select(token_sets).where(token_sets.c.id == token_set_id).with_for_update()
            ).first()
            if row is None:
                return None
            current = _token_set(row._mapping)
            if not (force or current.expiring()):
                return current
            renewed = replace(refresh(current), id=current.id)
            values = _row(renewed)
            values.pop("id")
            connection.execute(update(token_sets).where(token_sets.c.id == token_set_id).values(**values))
            return renewed


def _row(token_set: TokenSet) -> dict[str, Any]:
    return {
        "id": token_set.id,
        "subject": token_set.subject,
        "access_token": token_set.access_token,
        "refresh_token": token_set.refresh_token,
        "id_token": token_set.id_token,
        "expires_at": token_set.expires_at,
        "claims": dict(token_set.claims),
        "updated_at": datetime.now(UTC),
    }


def _token_set(row: Mapping[Any, Any]) -> TokenSet:  # a SQLAlchemy RowMapping
    return TokenSet(
        id=row["id"],
        subject=row["subject"],
        access_token=row["access_token"],
        refresh_token=row["refresh_token"],
        id_token=row["id_token"],
        expires_at=float(row["expires_at"]),
        claims=dict(row["claims"] or {}),
    )

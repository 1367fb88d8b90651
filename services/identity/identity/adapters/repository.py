"""Repositories of the Account aggregate and the apprentice-number counter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from identity.adapters.orm import accounts, counters
from identity.domain.model import (
    Account,
    AccountStatus,
    Activation,
    PasswordReset,
    is_apprentice_number,
    password_reset_token_hash,
)

APPRENTICE_NUMBER_COUNTER = "apprentice_number"
# Above the demo numbers (the demo apprentice is 20260001); see docs in README.
FIRST_APPRENTICE_NUMBER = 20260101


class AccountRepository(Protocol):
    def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None: ...

    def by_login(self, login: str, *, for_update: bool = False) -> Account | None: ...

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None: ...

    def by_apprentice_number(self, number: str, *, for_update: bool = False) -> Account | None: ...

    def by_password_reset_token(self, token: str, *, for_update: bool = False) -> Account | None: ...

    def add(self, account: Account) -> None: ...

    def save(self, account: Account) -> None: ...


class ApprenticeNumbers(Protocol):
    def next(self) -> str: ...


def _to_row(account: Account) -> dict[str, Any]:
    activation = account.activation
    reset = account.password_reset
    return {
        "id": str(account.id),
        "email": account.email,
        "username": account.username.lower() if account.username else None,
        "apprentice_number": account.apprentice_number,
        "name": account.name,
        "status": account.status.value,
        "password_hash": account.password_hash,
        "roles": list(account.roles),
        "company_roles": {k: list(v) for k, v in account.company_roles.items()},
        "failed_logins": account.failed_logins,
        "locked_until": account.locked_until,
        "activation_code_hash": activation.code_hash if activation else None,
        "activation_expires_at": activation.expires_at if activation else None,
        "activation_used_at": activation.used_at if activation else None,
        "password_reset_token_hash": reset.token_hash if reset else None,
        "password_reset_expires_at": reset.expires_at if reset else None,
        "created_at": account.created_at,
        "activated_at": account.activated_at,
        "last_login_at": account.last_login_at,
    }


def as_utc(value: Any) -> Any:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _from_row(row: sa.Row[Any]) -> Account:
    m = row._mapping
    activation = None
    if m["activation_code_hash"] is not None:
        activation = Activation(
            code_hash=m["activation_code_hash"],
            expires_at=as_utc(m["activation_expires_at"]),
            used_at=as_utc(m["activation_used_at"]),
        )
    reset = None
    if m["password_reset_token_hash"] is not None:
        reset = PasswordReset(
            token_hash=m["password_reset_token_hash"], expires_at=as_utc(m["password_reset_expires_at"])
        )
    return Account(
        id=uuid.UUID(m["id"]),
        email=m["email"],
        name=m["name"],
        status=AccountStatus(m["status"]),
        username=m["username"],
        apprentice_number=m["apprentice_number"],
        password_hash=m["password_hash"],
        roles=list(m["roles"] or []),
        company_roles={k: list(v) for k, v in (m["company_roles"] or {}).items()},
        failed_logins=m["failed_logins"],
        locked_until=as_utc(m["locked_until"]),
        activation=activation,
        password_reset=reset,
        created_at=as_utc(m["created_at"]),
        activated_at=as_utc(m["activated_at"]),
        last_login_at=as_utc(m["last_login_at"]),
    )


class SqlAccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, condition: sa.ColumnElement[bool], for_update: bool) -> Account | None:
        query = sa.select(accounts).where(condition)
        if for_update:
            # Concurrent failed logins must not lose a count (no-op on SQLite,
            # whose writers are serialised anyway).
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _from_row(row) if row is not None else None

    def get(self, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
        return self._one(accounts.c.id == str(account_id), for_update)

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        return self._one(accounts.c.email == email.strip().lower(), for_update)

    def by_apprentice_number(self, number: str, *, for_update: bool = False) -> Account | None:
        return self._one(accounts.c.apprentice_number == number.strip(), for_update)

    def by_login(self, login: str, *, for_update: bool = False) -> Account | None:
        login = login.strip()
        if is_apprentice_number(login):
            return self.by_apprentice_number(login, for_update=for_update)
        if "@" in login:
            return self.by_email(login, for_update=for_update)
        return self._one(accounts.c.username == login.lower(), for_update)

    def by_password_reset_token(self, token: str, *, for_update: bool = False) -> Account | None:
        return self._one(accounts.c.password_reset_token_hash == password_reset_token_hash(token), for_update)

    def add(self, account: Account) -> None:
        self.session.execute(sa.insert(accounts).values(**_to_row(account)))

    def save(self, account: Account) -> None:
        row = _to_row(account)
        row.pop("id")
        self.session.execute(sa.update(accounts).where(accounts.c.id == str(account.id)).values(**row))


class SqlApprenticeNumbers:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next(self) -> str:
        # The UPDATE holds the row lock until commit, so concurrent consumers
        # never hand out the same number; a rolled-back number is simply skipped.
        value = self.session.execute(
            sa.update(counters)
            .where(counters.c.name == APPRENTICE_NUMBER_COUNTER)
            .values(next_value=counters.c.next_value + 1)
            .returning(counters.c.next_value)
        ).scalar_one()
        return f"{value - 1:08d}"

    def ensure_at_least(self, value: int) -> None:
        self.session.execute(
            sa.update(counters)
            .where(counters.c.name == APPRENTICE_NUMBER_COUNTER, counters.c.next_value < value)
            .values(next_value=value)
        )

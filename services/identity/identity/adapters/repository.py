"""The Account aggregate's repository and the apprentice-number counter, in SQL."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from chassis.db import UtcDateTime
from chassis.repository import SqlAlchemyRepository, batch_cache
from identity.adapters.orm import accounts, counters
from identity.domain.model import (
    Account,
    AccountStatus,
    FailedLogin,
    LockoutPolicy,
    is_apprentice_number,
    password_reset_token_hash,
)

APPRENTICE_NUMBER_COUNTER = "apprentice_number"
# In a consumer batch's cache (chassis.repository.batch_cache): accounts by e-mail address
# (None: none has it), and the Azubinummern reserved for the batch.
ACCOUNTS_BY_EMAIL = "identity.accounts_by_email"
RESERVED_NUMBERS = "identity.reserved_numbers"
# Above the demo numbers (the demo apprentice is 20260001); see docs in README.
FIRST_APPRENTICE_NUMBER = 20260101


class SqlAccounts(SqlAlchemyRepository[Account]):
    model = Account

    def _one(self, condition: sa.ColumnElement[bool], for_update: bool) -> Account | None:
        query = sa.select(Account).where(condition)
        if for_update:
            # Concurrent writers of one account wait for each other (no-op on SQLite,
            # whose writers are serialised anyway).
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def by_email(self, email: str, *, for_update: bool = False) -> Account | None:
        email = email.strip().lower()
        known = batch_cache(self.session).get(ACCOUNTS_BY_EMAIL)
        if known is not None and email in known:
            return known[email]  # preloaded (and locked) for the batch; None: there is none
        return self._one(accounts.c.email == email, for_update)

    def add(self, item: Account) -> None:
        known = batch_cache(self.session).get(ACCOUNTS_BY_EMAIL)
        if known is not None:
            known[item.email] = item
        super().add(item)

    def preload_by_email(self, emails: Collection[str]) -> None:
        """For a consumer batch: the accounts with these e-mail addresses, locked (in address
        order, so two batches never wait for each other in a circle), in one query; ``by_email``
        then answers from them, and knows the others are absent."""
        wanted = sorted({email.strip().lower() for email in emails})
        if not wanted:
            return
        found = self.session.scalars(
            sa.select(Account)
            .where(accounts.c.email.in_(wanted))
            .order_by(accounts.c.email)
            .with_for_update()
        )
        known: dict[str, Account | None] = dict.fromkeys(wanted)
        known.update((account.email, account) for account in found)
        batch_cache(self.session)[ACCOUNTS_BY_EMAIL] = known

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

    # -- login outcomes: one conditional UPDATE each, no row lock held across argon2 ----------
    # PostgreSQL (READ COMMITTED) makes a concurrent UPDATE of the same row wait and then
    # re-evaluates WHERE and SET against the committed row, so no failure is lost and a
    # lock set meanwhile is seen. SQLite serialises writers anyway.
    @staticmethod
    def _not_locked(now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(accounts.c.locked_until.is_(None), accounts.c.locked_until <= now)

    def by_registration_token(self, token: str, *, for_update: bool = False) -> Account | None:
        return self._one(accounts.c.registration_token_hash == password_reset_token_hash(token), for_update)

    def record_failed_login(self, account_id: uuid.UUID, now: datetime, policy: LockoutPolicy) -> FailedLogin:
        """Count a failed login atomically (``Account.record_failed_login``'s rule).

        Answers the end of the lock if the account is locked now, by this failure or
        by a concurrent one (which this attempt then does not add to), and whether
        this failure set it.
        """
        count = accounts.c.failed_logins + 1
        reaches_threshold = count >= policy.threshold
        updated = self.session.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id, self._not_locked(now))
            .values(
                # At the threshold: lock, and start the count over for after the lock.
                failed_logins=sa.case((reaches_threshold, 0), else_=count),
                locked_until=sa.case(
                    (reaches_threshold, sa.literal(now + policy.duration, UtcDateTime())),
                    else_=accounts.c.locked_until,
                ),
            )
            .returning(accounts.c.locked_until)
        ).first()
        just_locked = False
        if updated is not None:
            locked_until: datetime | None = updated.locked_until
            # Only the attempt that reached the threshold sets this very end of the lock.
            just_locked = locked_until == now + policy.duration
        else:
            # A concurrent attempt locked the account first: this one does not count.
            locked_until = self.session.execute(
                sa.select(accounts.c.locked_until).where(accounts.c.id == account_id)
            ).scalar()
        if locked_until is None or now >= locked_until:
            return FailedLogin(None)
        return FailedLogin(locked_until, just_locked)

    def record_login(
        self, account_id: uuid.UUID, *, verified_hash: str, now: datetime, new_password_hash: str | None
    ) -> bool:
        """Record a successful login (``Account.record_login``), but only while the account
        still has the password hash that was verified, is active and is not locked;
        False otherwise (a concurrent reset, lock or lockout won)."""
        values: dict[str, Any] = {
            "failed_logins": 0,
            "locked_until": None,
            "last_login_at": now,
            "password_reset_token_hash": None,
            "password_reset_expires_at": None,
        }
        if new_password_hash is not None:
            values["password_hash"] = new_password_hash
        updated = self.session.execute(
            sa.update(accounts)
            .where(
                accounts.c.id == account_id,
                accounts.c.password_hash == verified_hash,
                accounts.c.status == AccountStatus.ACTIVE,
                self._not_locked(now),
            )
            .values(**values)
        )
        assert isinstance(updated, CursorResult)
        return updated.rowcount == 1


class SqlApprenticeNumbers:
    """The Azubinummer counter: one row, handed out by UPDATE ... RETURNING."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def next(self) -> str:
        # The UPDATE holds the row lock until commit, so concurrent consumers
        # never hand out the same number; a rolled-back number is simply skipped.
        reserved = batch_cache(self.session).get(RESERVED_NUMBERS)
        if reserved:
            return f"{reserved.popleft():08d}"
        value = self.session.execute(
            sa.update(counters)
            .where(counters.c.name == APPRENTICE_NUMBER_COUNTER)
            .values(next_value=counters.c.next_value + 1)
            .returning(counters.c.next_value)
        ).scalar_one()
        return f"{value - 1:08d}"

    def reserve(self, count: int) -> None:
        """For a consumer batch: take ``count`` numbers in one UPDATE; ``next`` hands them out in
        order (those the batch does not use are skipped, as a rolled-back one is)."""
        if count < 1:
            return
        end = self.session.execute(
            sa.update(counters)
            .where(counters.c.name == APPRENTICE_NUMBER_COUNTER)
            .values(next_value=counters.c.next_value + count)
            .returning(counters.c.next_value)
        ).scalar_one()
        batch_cache(self.session)[RESERVED_NUMBERS] = deque(range(end - count, end))

    def ensure_at_least(self, value: int) -> None:
        self.session.execute(
            sa.update(counters)
            .where(counters.c.name == APPRENTICE_NUMBER_COUNTER, counters.c.next_value < value)
            .values(next_value=value)
        )

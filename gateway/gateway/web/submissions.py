"""Creating forms, sent once: a one-time form token per rendered form and the outcome of its first use.

A form that creates something (a contract, ...) carries a random token. The
first submission with it claims the token in the web database, calls the API
with the token as ``Idempotency-Key`` and stores where the browser goes next.
A retried submission (a second click, a reload that re-posts, a browser that
repeats the request after a lost answer) finds the stored outcome and gets it
again, without creating anything a second time. Two submissions at the same
moment meet at the token's primary key: one claims it, the other waits for its
outcome.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from gateway.web.store import form_submissions

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# A claim whose request died (worker killed mid-call) may be taken over after this long;
# longer than any API call may take.
STALE_CLAIM = timedelta(minutes=2)
# How long a retried submission waits for the first one's outcome before saying "still running".
WAIT_FOR_FIRST = 12.0
# Outcomes are kept a day: long enough for any retry, short enough to stay small.
KEEP_FOR = timedelta(days=1)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_token(value: str | None) -> bool:
    return bool(value) and TOKEN_PATTERN.match(value or "") is not None


class Claim(StrEnum):
    FIRST = "first"  # this request sends the form; it must finish with ``done`` or ``release``
    DONE = "done"  # sent before: ``outcome`` says where the browser goes
    RUNNING = "running"  # the first submission is still running


@dataclass(frozen=True)
class Submission:
    claim: Claim
    outcome: str | None = None


class FormSubmissions:
    def __init__(self, engine: Engine, *, wait_for_first: float = WAIT_FOR_FIRST) -> None:
        self.engine = engine
        self.wait_for_first = wait_for_first

    def claim(self, token: str, subject: str) -> Submission:
        """Claim ``token`` for ``subject``'s submission, or learn what became of the first one."""
        deadline = time.monotonic() + self.wait_for_first
        while True:
            found = self._claim_once(token, subject)
            if found.claim is not Claim.RUNNING or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def done(self, token: str, outcome: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(form_submissions)
                .where(form_submissions.c.token == token)
                .values(state="done", outcome=outcome, updated_at=_now())
            )

    def release(self, token: str) -> None:
        """The submission created nothing (refused input, or the service is down): it may be sent again."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(form_submissions).where(
                    form_submissions.c.token == token, form_submissions.c.state == "pending"
                )
            )

    def delete_old(self, older_than: timedelta = KEEP_FOR) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(form_submissions).where(form_submissions.c.created_at < _now() - older_than)
            )

    def _claim_once(self, token: str, subject: str) -> Submission:
        now = _now()
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(form_submissions).values(
                        token=token, subject=subject, state="pending", created_at=now, updated_at=now
                    )
                )
            return Submission(Claim.FIRST)
        except IntegrityError:
            pass  # sent before (or right now)
        with self.engine.begin() as connection:
            row = connection.execute(
                select(form_submissions).where(form_submissions.c.token == token)
            ).first()
            if row is None:  # released in between: try again
                return self._claim_once(token, subject)
            if row.subject != subject:
                # Someone else's token: never their outcome. Tokens are random and
                # bound to a signed-in user's page, so this is a forged request.
                raise PermissionError("form token of another user")
            if row.state == "done":
                return Submission(Claim.DONE, row.outcome)
            if _aware(row.updated_at) < now - STALE_CLAIM:
                # The first request died mid-call; the API's Idempotency-Key keeps a retry from creating twice.
                taken = connection.execute(
                    update(form_submissions)
                    .where(
                        form_submissions.c.token == token,
                        form_submissions.c.state == "pending",
                        form_submissions.c.updated_at == row.updated_at,
                    )
                    .values(updated_at=now)
                ).rowcount
                if taken:
                    return Submission(Claim.FIRST)
        return Submission(Claim.RUNNING)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive values; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

"""``Idempotency-Key`` for creating calls (IETF draft-ietf-httpapi-idempotency-key-header).

A client that does not know whether its POST, PUT or PATCH arrived sends it again with the
same ``Idempotency-Key``; the service answers the retry with the first answer instead of
doing the work twice. Per key, scoped to the caller (the token's subject):

- the first request claims the key in a short transaction of its own (state ``processing``),
  then the view runs;
- its final answer (2xx, 3xx, 4xx) is stored, and a retry gets the same status, body and
  headers back, marked ``Idempotent-Replayed: true``, without the view running again;
- a 5xx, 408 or 429, or an exception, releases the key: nothing final happened, a retry runs;
- a retry while the first request still runs gets 409 with ``Retry-After``;
- the same key with another body (or method and path) gets 422: keys are not to be reused;
- a claim whose request died with its process (no answer stored, none released) is taken
  over once its lease has run out, so that a key is not blocked for a day;
- keys expire after 24 hours; ``purge_expired`` deletes them (the retention worker calls it).

Requests without a bearer token are passed through untouched: with nobody to scope the key
to, a stored answer could be handed to a stranger who guessed the key. The fingerprint is
the sha256 of the body's bytes: a retry sends the same bytes.
The header is optional; requests without it behave as before.

Wiring, in a service: the table in its metadata (``idempotency_table(metadata)``) and its
migration, and ``init_idempotency(app, runtime.engine, table)`` in the app factory.
The guarantee holds as long as the database answers: if storing the answer fails after the
view committed its work, the key stays claimed until its lease runs out and a retry after
that runs the view again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import sessionmaker

from chassis.auth import current_principal
from chassis.idempotency_keys import (
    _MAX_SCOPE,
    COMPLETED,
    PROCESSING,
    create_idempotency_table,
    drop_idempotency_table,
    idempotency_table,
    purge_expired,
)
from chassis.problems import problem_response, validation_problem

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_TTL = timedelta(hours=24)
# How long a claim holds without an answer before a retry may take it over. Longer than any
# request runs (gunicorn kills a worker after 30 s), so a live request is never overtaken.
DEFAULT_LEASE = timedelta(minutes=5)
RETRY_AFTER_SECONDS = 1


# Answers a retry may change: transient refusals and server errors release the key.
_TRANSIENT = frozenset({408, 429})
# Headers of the answer that a replay repeats; per-request ones (X-Request-ID, Date, cookies) are not kept.
STORED_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Location",
    "Location",
    "ETag",
    "Last-Modified",
    "Link",
    "Allow",
    "WWW-Authenticate",
)
_KEY = re.compile(r"[\x20-\x7e]{1,255}")
# RFC 8941 sf-string: printable ASCII in quotes, with \" and \\ as the only escapes.
_SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')

Clock = Callable[[], datetime]


def parse_key(value: str) -> str | None:
    """The key of an ``Idempotency-Key`` header value, or None if it is not a valid one.

    The draft defines the value as a structured-field string (``"abc"``); clients commonly send
    the bare key. Both are accepted; the key is 1 to 255 printable ASCII characters.
    """
    quoted = _SF_STRING.fullmatch(value)
    if quoted:
        value = re.sub(r"\\([\"\\])", r"\1", quoted.group(1))
    elif '"' in value or "\\" in value:
        return None  # neither a bare key nor a well-formed structured-field string
    return value if _KEY.fullmatch(value) else None


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _scope(subject: str) -> str:
    # Identity's subjects are UUIDs; a longer one still gets a scope of its own.
    if len(subject) <= _MAX_SCOPE:
        return subject
    return "sha256:" + hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    subject: str
    key: str
    token: str


class Idempotency:
    """Claims, stores, releases and replays; ``init_idempotency`` hooks it into an app."""

    def __init__(
        self,
        engine: Engine,
        table: sa.Table,
        *,
        ttl: timedelta = DEFAULT_TTL,
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = _now,
    ) -> None:
        if engine.dialect.name not in ("postgresql", "sqlite"):
            raise ValueError(f"idempotency keys need PostgreSQL or SQLite, not {engine.dialect.name}")
        self.engine = engine
        self.table = table
        self.ttl = ttl
        self.lease = lease
        self.clock = clock

    # -- the request's way through -------------------------------------------------
    def before(self) -> Response | None:
        if request.method not in METHODS or HEADER not in request.headers:
            return None
        if request.url_rule is None or request.routing_exception is not None:
            return None  # 404 / 405 answer as always
        key = parse_key(request.headers[HEADER])
        if key is None:
            return validation_problem(
                {"headers": {HEADER: ["Must be 1 to 255 printable ASCII characters."]}}, 422
            )
        scheme, _, _token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None  # nobody to scope the key to (see the module's doc)
        subject = _scope(current_principal().subject)  # a bad token is a 401 here
        path = request.full_path if request.query_string else request.path
        outcome = self.claim(subject, key, request.method, path, fingerprint(request.get_data(cache=True)))
        if isinstance(outcome, Claim):
            g.idempotency_claim = outcome
            return None
        return outcome

    def after(self, response: Response) -> Response:
        claim: Claim | None = g.pop("idempotency_claim", None)
        if claim is None:
            return response
        status = response.status_code
        if status >= 500 or status in _TRANSIENT:
            self.release(claim)
        elif response.is_streamed or response.direct_passthrough:
            log.warning("idempotency: a streamed answer cannot be replayed; key released")
            self.release(claim)
        else:
            headers = {name: response.headers[name] for name in STORED_HEADERS if name in response.headers}
            self.complete(claim, status, response.get_data(), headers)
        return response

    def teardown(self, _exc: BaseException | None) -> None:
        # An exception that no handler turned into an answer: nothing final was sent.
        claim: Claim | None = g.pop("idempotency_claim", None)
        if claim is not None:
            self.release(claim)

    # -- the table ----------------------------------------------------------------------
    def claim(self, subject: str, key: str, method: str, path: str, body_hash: str) -> Claim | Response:
        """Claim the key for this request, or the answer to give instead of running the view."""
        t = self.table
        now = self.clock()
        token = uuid.uuid4().hex
        this_key = sa.and_(t.c.subject == subject, t.c.key == key)
        with self.engine.begin() as conn:
            # An expired key counts as never used, whether or not the purge has come by yet.
            conn.execute(sa.delete(t).where(this_key, t.c.expires_at <= now))
            inserted = _insert_if_absent(
                conn,
                t,
                subject=subject,
                key=key,
                method=method,
                path=path,
                fingerprint=body_hash,
                state=PROCESSING,
                claim=token,
                locked_until=now + self.lease,
                created_at=now,
                expires_at=now + self.ttl,
            )
            if inserted:
                return Claim(subject, key, token)
            row = conn.execute(sa.select(t).where(this_key).with_for_update()).one_or_none()
            if row is None:  # released between our insert and select: the client may retry at once
                return _in_use()
            if (row.method, row.path, row.fingerprint) != (method, path, body_hash):
                return problem_response(
                    422,
                    "Idempotency-Key reused",
                    f"This {HEADER} was already used for a different request; use a new key for a new request.",
                    problem_type="idempotency-key-reused",
                )
            if row.state == COMPLETED:
                return _replay(row.response_status, row.response_body, row.response_headers or {})
            if row.locked_until is not None and row.locked_until > now:
                return _in_use()
            # The request that claimed the key died without an answer: this one takes over.
            conn.execute(
                sa.update(t)
                .where(this_key, t.c.state == PROCESSING)
                .values(claim=token, locked_until=now + self.lease)
            )
            log.warning("idempotency: took over a stale claim")
            return Claim(subject, key, token)

    def complete(self, claim: Claim, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        t = self.table
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(t)
                    .where(t.c.subject == claim.subject, t.c.key == claim.key, t.c.claim == claim.token)
                    .values(
                        state=COMPLETED,
                        claim=None,
                        locked_until=None,
                        response_status=status,
                        response_body=body,
                        response_headers=dict(headers),
                    )
                )
        except sa.exc.SQLAlchemyError:
            # The view's work is done and its answer goes out; only a replay of it is lost.
            log.exception("idempotency: could not store the answer")

    def release(self, claim: Claim) -> None:
        t = self.table
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(t).where(
                        t.c.subject == claim.subject,
                        t.c.key == claim.key,
                        t.c.claim == claim.token,
                        t.c.state == PROCESSING,
                    )
                )
        except sa.exc.SQLAlchemyError:
            # The lease runs out and a retry takes the key over then.
            log.exception("idempotency: could not release a key")


def _insert_if_absent(conn: Connection, table: sa.Table, **values: Any) -> bool:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.key)
    # rowcount is not reliable here (psycopg reports -1); RETURNING names the row only if it was inserted.
    return conn.execute(statement).first() is not None


def _in_use() -> Response:
    return problem_response(
        409,
        "Request in progress",
        f"A request with this {HEADER} is still being processed; retry later.",
        problem_type="idempotency-key-in-use",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _replay(status: int, body: bytes, headers: Mapping[str, str]) -> Response:
    response = Response(body, status=status)
    response.headers.pop("Content-Type", None)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def init_idempotency(
    app: Flask,
    engine_or_session_factory: Engine | sessionmaker[Any],
    table: sa.Table,
    *,
    ttl: timedelta = DEFAULT_TTL,
    lease: timedelta = DEFAULT_LEASE,
    clock: Clock = _now,
) -> Idempotency:
    """Honour ``Idempotency-Key`` on the app's POST, PUT and PATCH operations.

    Call it after ``create_service_app`` (so that request ids are set before it runs).
    """
    idempotency = Idempotency(_engine_of(engine_or_session_factory), table, ttl=ttl, lease=lease, clock=clock)
    app.before_request(idempotency.before)
    app.after_request(idempotency.after)
    app.teardown_request(idempotency.teardown)
    app.extensions["idempotency"] = idempotency
    return idempotency


def _engine_of(engine_or_session_factory: Engine | sessionmaker[Any]) -> Engine:
    if isinstance(engine_or_session_factory, Engine):
        return engine_or_session_factory
    bind = engine_or_session_factory.kw.get("bind")
    if isinstance(bind, Engine):
        return bind
    raise TypeError("init_idempotency needs an Engine or a sessionmaker bound to one")


__all__ = [
    "COMPLETED",
    "PROCESSING",
    "create_idempotency_table",
    "drop_idempotency_table",
    "idempotency_table",
    "init_idempotency",
    "purge_expired",
]

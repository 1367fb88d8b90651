"""Server-side sessions in the web database, on Flask-Session's session interface.

Flask-Session's own SQLAlchemy backend needs Flask-SQLAlchemy; this backend
uses SQLAlchemy Core on the web app's engine instead. The cookie carries only
a random id; expiry is enforced here, on the server, not by the cookie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, g
from flask.sessions import SessionMixin
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from chassis.errors import is_unavailable
from gateway.web.store import sessions

log = logging.getLogger(__name__)


class SqlSessionInterface(ServerSideSessionInterface):
    ttl = False  # expired rows are deleted here, every ~N requests

    def __init__(
        self,
        app: Flask,
        engine: Engine,
        *,
        cleanup_n_requests: int = 200,
        also_clean: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.also_clean = also_clean
        super().__init__(
            app,
            key_prefix="web:",
            use_signer=False,
            # A browser-session cookie; the server decides when it expires.
            permanent=False,
            sid_length=32,
            serialization_format="msgpack",
            cleanup_n_requests=cleanup_n_requests,
        )

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        try:
            return super().open_session(app, request)
        except SQLAlchemyError as exc:
            # A null session keeps error pages renderable; the request itself is
            # answered before anything else looks at the session (see app): 503
            # with Retry-After while the database is unreachable, 500 otherwise.
            if is_unavailable(exc):
                log.error("session store unavailable: %s", type(exc).__name__)
                g.session_store_failure = 503
            else:
                # E.g. a missing table: the web database was not migrated (bp-portal migrate-web).
                log.error("session store failed: %s", type(exc).__name__, exc_info=exc)
                g.session_store_failure = 500
            return self.make_null_session(app)

    def regenerate(self, session: ServerSideSession) -> None:
        """A new session id, the old one deleted on the server (at login: no session fixation).

        Flask-Session's own ``regenerate`` skips an empty session. At login the
        session is often empty by then (authlib pops its one state entry), and
        the id a browser was given before login would then carry the login.
        This one always rotates.
        """
        self._delete_session(self._get_store_id(session.sid))
        session.sid = self._generate_sid(self.sid_length)
        session.modified = True

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            data = connection.execute(
                select(sessions.c.data).where(sessions.c.store_id == store_id, sessions.c.expires_at > _now())
            ).scalar_one_or_none()
        return None if data is None else self.serializer.decode(data)

    def _delete_session(self, store_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.store_id == store_id))

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        values = {"data": self.serializer.encode(session), "expires_at": _now() + session_lifetime}
        with self.engine.begin() as connection:
            updated = connection.execute(
                update(sessions).where(sessions.c.store_id == store_id).values(**values)
            ).rowcount
            if not updated:
                connection.execute(insert(sessions).values(store_id=store_id, **values))

    def _delete_expired_sessions(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(sessions).where(sessions.c.expires_at <= _now()))
        if self.also_clean is not None:
            self.also_clean()


def _now() -> datetime:
    return datetime.now(UTC)

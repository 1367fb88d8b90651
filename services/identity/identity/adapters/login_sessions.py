"""identity's login sessions, kept on the server (see ``domain.model.LoginSession``).

The cookie ``bp_idp_session`` names a session by a random id; the database keeps
only its SHA-256, the account and the expiry. Logging out, a new login in the same
browser and a new password delete the rows, and a saved copy of the cookie is dead
from that moment on.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from chassis.repository import SqlAlchemyRepository
from identity.adapters.orm import login_sessions
from identity.domain.model import LoginSession, session_id_hash


class SqlLoginSessions(SqlAlchemyRepository[LoginSession]):
    model = LoginSession

    def live(self, session_id: str, now: datetime) -> LoginSession | None:
        """The session the cookie's id names, unless it has expired."""
        found = self.session.get(LoginSession, session_id_hash(session_id))
        return found if found is not None and found.is_live(now) else None

    # ``end`` and ``delete_expired`` run at every login: DELETEs of the table, not of the mapped
    # class, so that SQLAlchemy does not fetch the deleted keys (RETURNING) to update sessions
    # loaded in this unit of work, where there are none.
    def end(self, session_id: str) -> None:
        self.session.execute(
            sa.delete(login_sessions).where(login_sessions.c.id_hash == session_id_hash(session_id))
        )

    def end_all(self, account_id: uuid.UUID) -> None:
        self.session.execute(sa.delete(LoginSession).where(login_sessions.c.account_id == account_id))

    def delete_expired(self, now: datetime) -> None:
        """Expired sessions are of no use to anyone; the index on expires_at keeps this cheap."""
        self.session.execute(sa.delete(login_sessions).where(login_sessions.c.expires_at <= now))

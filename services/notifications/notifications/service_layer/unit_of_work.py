"""The notifications unit of work: notices and the mail outbox in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from chassis.events.incoming import IncomingEvent
from chassis.repository import batch_cache, preload_present
from chassis.uow import SqlAlchemyUnitOfWork
from notifications.adapters.mail_listener import MAIL_CHANNEL
from notifications.adapters.orm import mails, notices
from notifications.adapters.repository import SqlMails, SqlNotices
from notifications.domain.model import idempotency_key

# Set in a session's ``info`` by ``queue_mail``: this transaction gives the mail sender work.
_MAIL_QUEUED = "notifications.mail_queued"
# In a consumer batch's cache: the batch's transaction has issued its NOTIFY already.
_MAIL_NOTIFIED = "notifications.mail_notified"


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    notices: SqlNotices
    mails: SqlMails

    def _open(self) -> None:
        self.notices = SqlNotices(self.session)
        self.mails = SqlMails(self.session)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """Which of the batch's events have their mail and notice already (each is keyed by its
        event), a query each: the handlers then add theirs without a statement per row (a bulk
        import brings two documents per contract)."""
        event_ids = [event.envelope.id for event in events]
        preload_present(
            session, mails, "idempotency_key", [idempotency_key(event_id) for event_id in event_ids]
        )
        preload_present(session, notices, "source_event_id", event_ids)

    def queue_mail(self) -> None:
        """Note that this transaction gives the mail sender work; it is woken once the commit lands."""
        self.session.info[_MAIL_QUEUED] = True

    def commit(self) -> None:
        if self.session.info.get(_MAIL_QUEUED) and self.session.get_bind().dialect.name == "postgresql":
            # NOTIFY is transactional: a sender in another process hears it only if the mail row lands.
            # Once per transaction: in a consumer batch every event's commit would otherwise send one.
            cache = batch_cache(self.session) if self.joined else None
            if cache is None or not cache.get(_MAIL_NOTIFIED):
                self.session.execute(sa.text(f"NOTIFY {MAIL_CHANNEL}"))
                if cache is not None:
                    cache[_MAIL_NOTIFIED] = True
        super().commit()

    def rollback(self) -> None:
        super().rollback()
        if not self.joined:
            # In a consumer batch this is one event's savepoint; an earlier event of the batch
            # may have queued mail, so the note stays (at worst the sender wakes for nothing).
            self.session.info.pop(_MAIL_QUEUED, None)


def wake_sender_on_commit(session_factory: sessionmaker[Session], wakeup: threading.Event) -> None:
    """A sender in this process is woken as soon as a commit that queued mail has landed."""

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released inside a consumer batch: the batch has not landed yet
        if session.info.pop(_MAIL_QUEUED, False):
            wakeup.set()

    event.listen(session_factory, "after_commit", after_commit)

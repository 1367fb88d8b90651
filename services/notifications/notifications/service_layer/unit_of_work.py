"""The notifications unit of work: notices and the mail outbox in one transaction."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from chassis.uow import SqlAlchemyUnitOfWork
from notifications.adapters.repository import SqlMailRepository, SqlNoticeRepository

# PostgreSQL channel the mail sender LISTENs on, so a separate mailer process
# hears about new mails at once instead of at its next poll.
MAIL_CHANNEL = "notifications_mails"


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    notices: SqlNoticeRepository
    mails: SqlMailRepository
    # Set by bootstrap: wakes an in-process mail sender after a commit that queued mail.
    mail_wakeup: threading.Event | None = None

    def _open(self) -> None:
        self.notices = SqlNoticeRepository(self.session)
        self.mails = SqlMailRepository(self.session)
        self._queued_mail = False

    def queue_mail(self) -> None:
        """Note that this transaction adds mail; the sender is woken once it commits."""
        self._queued_mail = True

    def commit(self) -> None:
        queued = self._queued_mail
        if queued and self.session.get_bind().dialect.name == "postgresql":
            # NOTIFY is transactional: the sender hears it only if the mail row lands.
            self.session.execute(sa.text(f"NOTIFY {MAIL_CHANNEL}"))
        super().commit()
        self._queued_mail = False
        if queued and self.mail_wakeup is not None:
            self.mail_wakeup.set()

    def rollback(self) -> None:
        super().rollback()
        self._queued_mail = False

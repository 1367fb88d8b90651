"""Repositories of notices and the mail outbox, over the imperatively mapped domain classes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository, insert_unless_present
from notifications.adapters.orm import mails, notice_reads, notices
from notifications.domain.model import MailStatus, Notice, NoticeAudience, OutgoingMail, RecipientKind

# Newest first; the id breaks ties (it is unique). The listing indexes are read backwards.
NOTICE_ORDER = (SortKey("created_at", descending=True), SortKey("id", descending=True))


def _addressed_to(audience: NoticeAudience) -> sa.ColumnElement[bool]:
    """Notices the audience may see (the rule of ``NoticeAudience.can_see``, in SQL)."""
    conditions = []
    if audience.apprentice_number is not None:
        conditions.append(
            sa.and_(
                notices.c.recipient_kind == RecipientKind.APPRENTICE,
                notices.c.apprentice_number == audience.apprentice_number,
            )
        )
    if audience.company_numbers:
        conditions.append(
            sa.and_(
                notices.c.recipient_kind == RecipientKind.COMPANY,
                notices.c.company_number.in_(sorted(audience.company_numbers)),
            )
        )
    return sa.or_(*conditions) if conditions else sa.false()


def _read_by(reader: str) -> sa.Exists:
    return sa.exists().where(notice_reads.c.notice_id == notices.c.id, notice_reads.c.reader == reader)


class SqlNotices(SqlAlchemyRepository[Notice]):
    model = Notice

    def get_by_source(self, event_id: str) -> Notice | None:
        return self.session.scalars(sa.select(Notice).where(notices.c.source_event_id == event_id)).first()

    def add_unless_present(self, notice: Notice) -> bool:
        """Add the notice unless its event already has one; whether it was added."""
        return insert_unless_present(self.session, notices, notice, "source_event_id")

    def page_visible(
        self, audience: NoticeAudience, reader: str, *, unread_only: bool, request: PageRequest
    ) -> Page[Notice]:
        """One page of the audience's notices, newest first; ``unread_only``: not yet read by ``reader``."""
        stmt = sa.select(Notice).where(_addressed_to(audience))
        if unread_only:
            stmt = stmt.where(~_read_by(reader))
        return self.page(stmt, NOTICE_ORDER, request)

    def count_unread(self, audience: NoticeAudience, reader: str) -> int:
        stmt = (
            sa.select(sa.func.count()).select_from(notices).where(_addressed_to(audience), ~_read_by(reader))
        )
        return int(self.session.execute(stmt).scalar_one())

    def read_times(self, notice_ids: Collection[str], reader: str) -> dict[str, datetime]:
        """When ``reader`` first read each of ``notice_ids`` (those they have read)."""
        if not notice_ids:
            return {}
        rows = self.session.execute(
            sa.select(notice_reads.c.notice_id, notice_reads.c.read_at).where(
                notice_reads.c.reader == reader, notice_reads.c.notice_id.in_(list(notice_ids))
            )
        )
        return {notice_id: read_at for notice_id, read_at in rows}

    def mark_read(self, notice_id: str, reader: str, at: datetime) -> None:
        """Idempotent: the first read time stays, and concurrent marks do not collide."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(notice_reads)
            .values(notice_id=notice_id, reader=reader, read_at=at)
            .on_conflict_do_nothing(index_elements=["notice_id", "reader"])
        )


class SqlMails(SqlAlchemyRepository[OutgoingMail]):
    model = OutgoingMail

    def get_by_key(self, key: str) -> OutgoingMail | None:
        return self.session.scalars(sa.select(OutgoingMail).where(mails.c.idempotency_key == key)).first()

    def add_unless_present(self, mail: OutgoingMail) -> bool:
        """Queue the mail unless one with its idempotency key exists; whether it was queued."""
        return insert_unless_present(self.session, mails, mail, "idempotency_key")

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutgoingMail]:
        """Take up to ``limit`` due mails in one statement, oldest due first: count the attempt and
        lease them until ``lease_until`` (``OutgoingMail.claim`` for a whole batch).

        SKIP LOCKED lets several senders share the table on PostgreSQL: each takes rows the
        others have not locked, and the lease keeps them away once this transaction commits.
        (SQLite has no row locks and serialises writers anyway; the clause is left out there.)
        The mails come back in the order they were created.
        """
        due = (
            sa.select(mails.c.id)
            .where(mails.c.status == MailStatus.PENDING, mails.c.next_attempt_at <= now)
            .order_by(mails.c.next_attempt_at, mails.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(OutgoingMail)
            .where(mails.c.id.in_(due.scalar_subquery()))
            .values(attempts=mails.c.attempts + 1, next_attempt_at=lease_until)
            .returning(OutgoingMail)
        )
        claimed = self.session.scalars(stmt, execution_options={"synchronize_session": False}).all()
        return sorted(claimed, key=lambda mail: (mail.created_at, mail.id))

    def mark_sent(self, ids: Collection[str], at: datetime) -> int:
        """The mails ``ids`` the server has accepted, sent at ``at``, in one statement
        (``OutgoingMail.mark_sent`` for a whole batch); how many changed.

        Only pending mails change: a mail another sender has finished after this one's lease
        ran out keeps its first sending time.
        """
        if not ids:
            return 0
        result = self.session.execute(
            sa.update(mails)
            .where(mails.c.id.in_(sorted(ids)), mails.c.status == MailStatus.PENDING)
            .values(status=MailStatus.SENT, sent_at=at, last_error=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def get_many(self, ids: Collection[str]) -> list[OutgoingMail]:
        if not ids:
            return []
        return list(self.session.scalars(sa.select(OutgoingMail).where(mails.c.id.in_(sorted(ids)))))

    def newest(self, status: MailStatus | None = None, limit: int = 50) -> list[OutgoingMail]:
        """The newest mails (for operators), optionally of one status."""
        stmt = sa.select(OutgoingMail).order_by(mails.c.created_at.desc(), mails.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(mails.c.status == status)
        return list(self.session.scalars(stmt))

    def with_open_link(self, account_id: str, kind: str, *, expiring_by: datetime) -> list[OutgoingMail]:
        """The account's mails whose link of ``kind`` is still in the body and expires by ``expiring_by``."""
        return list(
            self.session.scalars(
                sa.select(OutgoingMail)
                .where(
                    mails.c.account_id == account_id,
                    mails.c.link_kind == kind,
                    mails.c.link_voided_at.is_(None),
                    mails.c.link_expires_at <= expiring_by,
                )
                .with_for_update()
            )
        )

    def with_expired_links(self, now: datetime, limit: int) -> list[OutgoingMail]:
        """Up to ``limit`` mails whose link expired but is still in the body (SKIP LOCKED: several
        scrubbers share the table)."""
        return list(
            self.session.scalars(
                sa.select(OutgoingMail)
                .where(
                    mails.c.link_kind.is_not(None),
                    mails.c.link_voided_at.is_(None),
                    mails.c.link_expires_at <= now,
                )
                .order_by(mails.c.link_expires_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )

    def requeue_failed(self, now: datetime) -> int:
        """Every failed mail back to pending, with a fresh count of attempts; how many.

        One statement rather than mail by mail: after a long outage there can be many.
        """
        result = self.session.execute(
            sa.update(mails)
            .where(mails.c.status == MailStatus.FAILED)
            .values(status=MailStatus.PENDING, attempts=0, next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

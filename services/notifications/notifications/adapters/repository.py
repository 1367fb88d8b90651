"""Repositories on SQLAlchemy Core, returning the domain's frozen dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifications.adapters.orm import mails, notice_reads, notices
from notifications.domain.model import MailStatus, Notice, NoticeAudience, OutgoingMail, RecipientKind


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SqlNoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, notice: Notice) -> None:
        self.session.execute(
            sa.insert(notices).values(
                id=notice.id,
                source_event_id=notice.source_event_id,
                document_id=notice.document_id,
                recipient_kind=notice.recipient_kind.value,
                company_number=notice.company_number,
                apprentice_number=notice.apprentice_number,
                title=notice.title,
                message=notice.message,
                created_at=notice.created_at,
            )
        )

    def get_by_source(self, event_id: str) -> Notice | None:
        row = self.session.execute(
            sa.select(notices, sa.null().label("read_at")).where(notices.c.source_event_id == event_id)
        ).first()
        return _notice(row) if row else None

    def _visible(self, audience: NoticeAudience, reader: str, *, unread_only: bool = False) -> sa.Select[Any]:
        """Notices the audience may see, each with this reader's read time (or NULL)."""
        read = notice_reads.alias("reads")
        conditions = []
        if audience.apprentice_number is not None:
            conditions.append(
                sa.and_(
                    notices.c.recipient_kind == RecipientKind.APPRENTICE.value,
                    notices.c.apprentice_number == audience.apprentice_number,
                )
            )
        if audience.company_numbers:
            conditions.append(
                sa.and_(
                    notices.c.recipient_kind == RecipientKind.COMPANY.value,
                    notices.c.company_number.in_(sorted(audience.company_numbers)),
                )
            )
        query = (
            sa.select(notices, read.c.read_at)
            .select_from(
                notices.outerjoin(read, sa.and_(read.c.notice_id == notices.c.id, read.c.reader == reader))
            )
            .where(sa.or_(*conditions) if conditions else sa.false())
        )
        return query.where(read.c.read_at.is_(None)) if unread_only else query

    def list_visible(
        self, audience: NoticeAudience, reader: str, *, unread_only: bool, limit: int
    ) -> list[Notice]:
        if audience.is_empty:
            return []
        query = self._visible(audience, reader, unread_only=unread_only)
        rows = self.session.execute(
            query.order_by(notices.c.created_at.desc(), notices.c.id).limit(limit)
        ).all()
        return [_notice(row) for row in rows]

    def count_unread(self, audience: NoticeAudience, reader: str) -> int:
        if audience.is_empty:
            return 0
        query = self._visible(audience, reader, unread_only=True)
        return int(
            self.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        )

    def get_visible(self, notice_id: str, audience: NoticeAudience, reader: str) -> Notice | None:
        if audience.is_empty:
            return None
        row = self.session.execute(self._visible(audience, reader).where(notices.c.id == notice_id)).first()
        return _notice(row) if row else None

    def mark_read(self, notice_id: str, reader: str, at: datetime) -> None:
        """Idempotent: the first read time stays, concurrent marks do not collide."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(notice_reads)
            .values(notice_id=notice_id, reader=reader, read_at=at)
            .on_conflict_do_nothing(index_elements=["notice_id", "reader"])
        )


def _notice(row: Any) -> Notice:
    return Notice(
        id=row.id,
        source_event_id=row.source_event_id,
        document_id=row.document_id,
        recipient_kind=RecipientKind(row.recipient_kind),
        company_number=row.company_number,
        apprentice_number=row.apprentice_number,
        title=row.title,
        message=row.message,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        read_at=utc(row.read_at),
    )


class SqlMailRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, mail: OutgoingMail) -> None:
        self.session.execute(
            sa.insert(mails).values(
                id=mail.id,
                idempotency_key=mail.idempotency_key,
                message_id=mail.message_id,
                recipient_name=mail.recipient_name,
                recipient_email=mail.recipient_email,
                subject=mail.subject,
                text_body=mail.text_body,
                html_body=mail.html_body,
                status=mail.status.value,
                attempts=mail.attempts,
                next_attempt_at=mail.next_attempt_at,
                last_error=mail.last_error,
                created_at=mail.created_at,
                sent_at=mail.sent_at,
            )
        )

    def get(self, mail_id: str) -> OutgoingMail | None:
        row = self.session.execute(sa.select(mails).where(mails.c.id == mail_id)).first()
        return _mail(row) if row else None

    def get_by_key(self, key: str) -> OutgoingMail | None:
        row = self.session.execute(sa.select(mails).where(mails.c.idempotency_key == key)).first()
        return _mail(row) if row else None

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[OutgoingMail]:
        """Take due pending mails for this sender: count the attempt and hide them until ``lease_until``.

        SKIP LOCKED on PostgreSQL lets several senders share the table; SQLite
        serialises writers anyway.
        """
        query = (
            sa.select(mails.c.id)
            .where(mails.c.status == MailStatus.PENDING.value, mails.c.next_attempt_at <= now)
            .order_by(mails.c.next_attempt_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(self.session.execute(query).scalars())
        if not ids:
            return []
        self.session.execute(
            sa.update(mails)
            .where(mails.c.id.in_(ids))
            .values(attempts=mails.c.attempts + 1, next_attempt_at=lease_until)
        )
        rows = self.session.execute(
            sa.select(mails).where(mails.c.id.in_(ids)).order_by(mails.c.created_at)
        ).all()
        return [_mail(row) for row in rows]

    def mark_sent(self, mail_id: str, at: datetime) -> None:
        self.session.execute(
            sa.update(mails)
            .where(mails.c.id == mail_id)
            .values(status=MailStatus.SENT.value, sent_at=at, last_error=None)
        )

    def record_failure(self, mail_id: str, error: str, *, retry_at: datetime | None) -> None:
        """Back to pending until ``retry_at``, or failed for good when it is None."""
        values: dict[str, Any] = {"last_error": error[:500]}
        if retry_at is None:
            values["status"] = MailStatus.FAILED.value
        else:
            values["next_attempt_at"] = retry_at
        self.session.execute(
            sa.update(mails)
            .where(mails.c.id == mail_id, mails.c.status == MailStatus.PENDING.value)
            .values(**values)
        )

    def requeue_failed(self, now: datetime) -> int:
        """An operator's second chance for mails that gave up (e.g. after fixing SMTP settings)."""
        result = self.session.execute(
            sa.update(mails)
            .where(mails.c.status == MailStatus.FAILED.value)
            .values(status=MailStatus.PENDING.value, attempts=0, next_attempt_at=now)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def list(self, status: MailStatus | None = None, limit: int = 50) -> Sequence[OutgoingMail]:
        query = sa.select(mails).order_by(mails.c.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(mails.c.status == status.value)
        return [_mail(row) for row in self.session.execute(query).all()]


def _mail(row: Any) -> OutgoingMail:
    return OutgoingMail(
        id=row.id,
        idempotency_key=row.idempotency_key,
        message_id=row.message_id,
        recipient_name=row.recipient_name,
        recipient_email=row.recipient_email,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        status=MailStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=utc(row.next_attempt_at),  # type: ignore[arg-type]
        last_error=row.last_error,
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        sent_at=utc(row.sent_at),
    )

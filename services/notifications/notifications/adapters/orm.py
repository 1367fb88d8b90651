"""The notifications database: notices, per-reader read marks, the mail outbox, and the chassis outbox/inbox."""

from __future__ import annotations

import sqlalchemy as sa

from chassis.events.tables import add_messaging_tables

metadata = sa.MetaData()

outbox, inbox = add_messaging_tables(metadata)

Timestamp = sa.DateTime(timezone=True)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # One notice per event: a redelivered event finds it and adds nothing.
    sa.Column("source_event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("document_id", sa.String(36), nullable=False),
    sa.Column("recipient_kind", sa.String(20), nullable=False),
    sa.Column("company_number", sa.String(20), nullable=True),
    sa.Column("apprentice_number", sa.String(20), nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.CheckConstraint(
        "(recipient_kind = 'company' AND company_number IS NOT NULL AND apprentice_number IS NULL)"
        " OR (recipient_kind = 'apprentice' AND apprentice_number IS NOT NULL AND company_number IS NULL)",
        name="ck_notices_recipient",
    ),
    sa.Index("ix_notices_apprentice", "apprentice_number", "created_at"),
    sa.Index("ix_notices_company", "company_number", "created_at"),
)

notice_reads = sa.Table(
    "notice_reads",
    metadata,
    sa.Column("notice_id", sa.String(36), sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    # The reader's account (token subject): read state is per person.
    sa.Column("reader", sa.String(200), primary_key=True),
    sa.Column("read_at", Timestamp, nullable=False),
)

mails = sa.Table(
    "mails",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("idempotency_key", sa.String(100), nullable=False, unique=True),
    sa.Column("message_id", sa.String(250), nullable=False),
    sa.Column("recipient_name", sa.String(200), nullable=False),
    sa.Column("recipient_email", sa.String(320), nullable=False),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # When the sender may (next) try: backoff after a failure, lease while claimed.
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_mails_status"),
    sa.Index(
        "ix_mails_due",
        "next_attempt_at",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    ),
)

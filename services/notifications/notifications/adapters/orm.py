"""Tables of the notifications database and their imperative mapping onto the domain.

Notices, per-reader read marks, the mail outbox, and the chassis' outbox and inbox.
The domain stays plain Python: SQLAlchemy learns here how to persist its classes.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import registry

from chassis.db import UtcDateTime, new_metadata
from chassis.events.tables import add_messaging_tables
from notifications.domain.model import MailStatus, Notice, OutgoingMail, RecipientKind


def _code(enum_class: type[enum.StrEnum], length: int) -> sa.Enum:
    # Stored as the code ("pending"), in a plain string column: a new value needs no ALTER TYPE.
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

outbox, inbox = add_messaging_tables(metadata)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # One notice per event: a redelivered event finds it and adds nothing.
    sa.Column("source_event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("document_id", sa.String(36), nullable=False),
    sa.Column("recipient_kind", _code(RecipientKind, 20), nullable=False),
    sa.Column("company_number", sa.String(20), nullable=True),
    sa.Column("apprentice_number", sa.String(20), nullable=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(
        "(recipient_kind = 'company' AND company_number IS NOT NULL AND apprentice_number IS NULL)"
        " OR (recipient_kind = 'apprentice' AND apprentice_number IS NOT NULL AND company_number IS NULL)",
        name="recipient",
    ),
    # The list's keyset order (NOTICE_ORDER in adapters.repository, newest first: read backwards),
    # per addressee.
    sa.Index("ix_notices_apprentice_listing", "apprentice_number", "created_at", "id"),
    sa.Index("ix_notices_company_listing", "company_number", "created_at", "id"),
)

notice_reads = sa.Table(
    "notice_reads",
    metadata,
    sa.Column("notice_id", sa.String(36), sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    # The reader's account (token subject): read state is per person.
    sa.Column("reader", sa.String(200), primary_key=True),
    sa.Column("read_at", UtcDateTime(), nullable=False),
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
    sa.Column("status", _code(MailStatus, 10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # When the sender may (next) try: backoff after a failure, lease while claimed.
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    # Mails with a one-time link (migration 0004): the link leaves the stored body once void.
    sa.Column("account_id", sa.String(36), nullable=True),
    sa.Column("link_kind", sa.String(20), nullable=True),
    sa.Column("link_expires_at", UtcDateTime(), nullable=True),
    sa.Column("link_voided_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
    sa.Index(
        "ix_mails_open_links",
        "link_expires_at",
        postgresql_where=sa.text("link_kind IS NOT NULL AND link_voided_at IS NULL"),
        sqlite_where=sa.text("link_kind IS NOT NULL AND link_voided_at IS NULL"),
    ),
    sa.Index("ix_mails_account_links", "account_id", "link_kind"),
    sa.Index(
        "ix_mails_due",
        "next_attempt_at",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    ),
)

_mapped = False


def start_mappers() -> None:
    """Map once per process; the embedded mode and tests bootstrap many times."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Notice, notices)
    mapper_registry.map_imperatively(OutgoingMail, mails)
    _mapped = True

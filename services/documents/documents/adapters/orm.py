"""Tables of the documents database and their imperative mapping onto the domain classes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import deferred, registry

from chassis.db import UtcDateTime, new_metadata
from chassis.events.tables import add_messaging_tables
from documents.domain.access_letters import AccessLetter
from documents.domain.model import ContractRecord, Document, PendingAccess

metadata = new_metadata()

outbox, inbox = add_messaging_tables(metadata)

# Read model of registered contracts, fed by training.contract.registered.
contracts = sa.Table(
    "contracts",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("contract_number", sa.String(30), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("occupation_code", sa.String(20), nullable=False),
    sa.Column("occupation_title", sa.String(200), nullable=False),
    sa.Column("company_number", sa.String(20), nullable=False, index=True),
    sa.Column("company_name", sa.String(200), nullable=False),
    sa.Column("company_email", sa.String(320), nullable=False),
    sa.Column("apprentice_first_name", sa.String(100), nullable=False),
    sa.Column("apprentice_last_name", sa.String(100), nullable=False),
    sa.Column("apprentice_birth_date", sa.Date, nullable=False),
    sa.Column("apprentice_email", sa.String(320), nullable=False),
    sa.Column("apprentice_number", sa.String(20), nullable=True),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("contract_id", sa.Uuid, nullable=True),
    sa.Column("recipient_kind", sa.String(20), nullable=False),
    sa.Column("company_number", sa.String(20), nullable=True),
    sa.Column("apprentice_number", sa.String(20), nullable=True),
    sa.Column("recipient_name", sa.String(200), nullable=False),
    sa.Column("recipient_email", sa.String(320), nullable=False),
    sa.Column("filename", sa.String(130), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    # The PDF: rendered on the first opening (or at issue, before 0004), then never again.
    sa.Column("size", sa.Integer, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("rendered_at", UtcDateTime(), nullable=True),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    # The sealed content (domain.DocumentContent, encrypted): what the PDF shows, fixed at issue.
    sa.Column("template", sa.String(50), nullable=True),
    sa.Column("template_version", sa.Integer, nullable=True),
    sa.Column("sealed_data", sa.LargeBinary, nullable=True),
    sa.Column("sealed_sha256", sa.String(64), nullable=True),
    sa.Column("first_opened_at", UtcDateTime(), nullable=True),
    sa.Column("first_opened_by", sa.String(64), nullable=True),
    sa.CheckConstraint("recipient_kind IN ('company', 'apprentice')", name="recipient_kind"),
    # The PDF's columns are all there or none is; a document is rendered or sealed (or both).
    sa.CheckConstraint(
        "(content IS NULL) = (rendered_at IS NULL) AND (content IS NULL) = (sha256 IS NULL) "
        "AND (content IS NULL) = (size IS NULL)",
        name="rendering",
    ),
    sa.CheckConstraint(
        "(sealed_data IS NULL) = (sealed_sha256 IS NULL) AND (sealed_data IS NULL) = (template IS NULL) "
        "AND (sealed_data IS NULL) = (template_version IS NULL) "
        "AND (content IS NOT NULL OR sealed_data IS NOT NULL)",
        name="sealed",
    ),
    # One confirmation per contract and recipient, whatever is delivered twice or at once:
    # documents are stored with INSERT ... ON CONFLICT DO NOTHING on this key.
    sa.UniqueConstraint("contract_id", "kind", "recipient_kind", name="uq_documents_contract_kind_recipient"),
    # The keyset orders of the lists (repository.DOCUMENT_ORDER, CONTRACT_DOCUMENT_ORDER), behind
    # the filter of each scope: everything (chamber), a company's, an apprentice's, a contract's.
    # "Newest first" is both keys descending, which these read backwards.
    sa.Index("ix_documents_listing", "issued_at", "id"),
    sa.Index("ix_documents_company_listing", "company_number", "recipient_kind", "issued_at", "id"),
    sa.Index("ix_documents_apprentice_listing", "apprentice_number", "recipient_kind", "issued_at", "id"),
    sa.Index("ix_documents_contract_listing", "contract_id", "issued_at", "id"),
    # Documents still to be rendered, in id order (bp-documents render-pending).
    sa.Index(
        "ix_documents_unrendered",
        "id",
        postgresql_where=sa.text("rendered_at IS NULL"),
        sqlite_where=sa.text("rendered_at IS NULL"),
    ),
)

# Access data that arrived before its contract; the code only sealed (see PendingAccess).
pending_access = sa.Table(
    "pending_access",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("apprentice_number", sa.String(20), nullable=False),
    sa.Column("sealed_code", sa.LargeBinary, nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
)

# One row per contract whose events arrived. The contract and its access data arrive on
# different queues; the unit of work that stores what either brings first upserts this row
# (INSERT ... ON CONFLICT DO UPDATE), so two such short transactions of one contract run one
# after the other and the second sees what the first stored. Never held while rendering.
contract_turns = sa.Table(
    "contract_turns",
    metadata,
    sa.Column("contract_id", sa.Uuid, primary_key=True),
    sa.Column("taken_at", UtcDateTime(), nullable=False),
)

# Access letters (Anschreiben) with a company's or apprentice's Aktivierungscode, for the chamber to
# print: sealed like documents, rendered on first opening; only chamber staff open them.
access_letters = sa.Table(
    "access_letters",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("template", sa.String(50), nullable=False),
    sa.Column("template_version", sa.Integer, nullable=False),
    sa.Column("sealed_data", sa.LargeBinary, nullable=True),
    sa.Column("sealed_sha256", sa.String(64), nullable=True),
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("size", sa.Integer, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("rendered_at", UtcDateTime(), nullable=True),
    sa.Column("printed_at", UtcDateTime(), nullable=True),
    sa.Column("printed_by", sa.String(64), nullable=True),
    sa.Column("superseded_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('company', 'apprentice')", name="kind"),
    # The chamber's list: newest first.
    sa.Index("ix_access_letters_listing", "issued_at", "id"),
    sa.Index("ix_access_letters_number", "kind", "number"),
)

mapper_registry = registry(metadata=metadata)
_started = False


def start_mappers() -> None:
    """Map the domain classes once per process (idempotent)."""
    global _started
    if _started:
        return
    mapper_registry.map_imperatively(ContractRecord, contracts)
    # The PDF bytes and the sealed content load only when asked for: listings never pull them.
    mapper_registry.map_imperatively(
        Document,
        documents,
        properties={
            "content": deferred(documents.c.content, group="payload"),
            "sealed_data": deferred(documents.c.sealed_data, group="payload"),
        },
    )
    mapper_registry.map_imperatively(PendingAccess, pending_access)
    mapper_registry.map_imperatively(
        AccessLetter,
        access_letters,
        properties={
            "content": deferred(access_letters.c.content, group="payload"),
            "sealed_data": deferred(access_letters.c.sealed_data, group="payload"),
        },
    )
    _started = True

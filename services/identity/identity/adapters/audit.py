"""The audit log in SQL: ``record`` appends in the caller's transaction, ``page`` lists newest first."""

from __future__ import annotations

import sqlalchemy as sa

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository
from identity.adapters.orm import audit_records
from identity.domain.audit import AuditFilter, AuditRecord, AuditRecorder

NEWEST_FIRST = (SortKey("at", descending=True), SortKey("id", descending=True))


class SqlAuditLog(SqlAlchemyRepository[AuditRecord], AuditRecorder):
    model = AuditRecord

    def _append(self, record: AuditRecord) -> None:
        self.session.add(record)

    def page_matching(self, wanted: AuditFilter, request: PageRequest) -> Page[AuditRecord]:
        stmt = sa.select(AuditRecord)
        if wanted.account_id is not None:
            stmt = stmt.where(
                sa.or_(
                    audit_records.c.account_id == wanted.account_id,
                    audit_records.c.actor_id == wanted.account_id,
                )
            )
        if wanted.kind is not None:
            stmt = stmt.where(audit_records.c.kind == wanted.kind.value)
        if wanted.since is not None:
            stmt = stmt.where(audit_records.c.at >= wanted.since)
        if wanted.until is not None:
            stmt = stmt.where(audit_records.c.at < wanted.until)
        return self.page(stmt, NEWEST_FIRST, request)

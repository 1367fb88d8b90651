"""The access letters' repository, in SQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, undefer_group

from documents.adapters import orm
from documents.domain.access_letters import AccessLetter
from documents.domain.model import Rendering


class SqlAccessLetters:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, letter: AccessLetter) -> None:
        self.session.add(letter)

    def supersede(self, kind: str, number: str, at: datetime) -> None:
        """Earlier letters of the number: their code no longer works, so they are not to be printed."""
        table = orm.access_letters
        self.session.execute(
            sa.update(table)
            .where(table.c.kind == kind, table.c.number == number, table.c.superseded_at.is_(None))
            .values(superseded_at=at)
            .execution_options(synchronize_session=False)
        )

    def get(self, letter_id: uuid.UUID, *, with_content: bool = False) -> AccessLetter | None:
        query = sa.select(AccessLetter).where(orm.access_letters.c.id == letter_id)
        if with_content:
            query = query.options(undefer_group("payload"))
        return self.session.scalars(query).first()

    def newest(self, *, to_print_only: bool, limit: int) -> list[AccessLetter]:
        table = orm.access_letters
        query = sa.select(AccessLetter).order_by(table.c.issued_at.desc(), table.c.id.desc()).limit(limit)
        if to_print_only:
            query = query.where(table.c.printed_at.is_(None), table.c.superseded_at.is_(None))
        return list(self.session.scalars(query))

    def store_rendering(self, rendering: Rendering) -> bool:
        """Compare-and-set, as for documents: the first rendering stored wins."""
        table = orm.access_letters
        result = self.session.execute(
            sa.update(table)
            .where(table.c.id == rendering.document_id, table.c.content.is_(None))
            .values(
                content=rendering.content,
                size=rendering.size,
                sha256=rendering.sha256,
                rendered_at=rendering.rendered_at,
            )
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

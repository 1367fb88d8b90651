"""``chassis.repository.insert_unless_present``: one atomic statement on its own; in a consumer
batch that preloaded the keys (``preload_present``), no statement per row, and the unique index
still stops a row another transaction inserted meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, registry

from chassis.db import make_engine
from chassis.repository import insert_unless_present, preload_present

metadata = sa.MetaData()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(40), nullable=False, unique=True),
    sa.Column("text", sa.String(40), nullable=False),
)


@dataclass
class Note:
    id: int
    key: str
    text: str


registry().map_imperatively(Note, notes)


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: Any, database_url: str, tmp_path: Any) -> Iterator[sa.Engine]:
    url = database_url if request.param == "postgresql" else f"sqlite:///{tmp_path / 'notes.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def _keys(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(sa.select(notes.c.key)))


def test_on_its_own_the_second_insert_of_a_key_is_refused(engine: sa.Engine) -> None:
    with Session(engine) as session:
        assert insert_unless_present(session, notes, Note(1, "a", "first"), "key") is True
        assert insert_unless_present(session, notes, Note(2, "a", "second"), "key") is False
        session.commit()
    with engine.connect() as connection:
        assert connection.execute(sa.select(notes.c.text)).scalars().all() == ["first"]


def test_a_preloaded_batch_answers_without_a_statement_per_row(engine: sa.Engine) -> None:
    with Session(engine) as session:
        insert_unless_present(session, notes, Note(1, "old", "before"), "key")
        session.commit()
    statements = _statements(engine)
    with Session(engine) as session:
        preload_present(session, notes, "key", ["old", "new-1", "new-2"])
        before = len(statements)
        assert insert_unless_present(session, notes, Note(2, "old", "again"), "key") is False
        assert insert_unless_present(session, notes, Note(3, "new-1", "x"), "key") is True
        assert insert_unless_present(session, notes, Note(4, "new-1", "twice"), "key") is False
        assert insert_unless_present(session, notes, Note(5, "new-2", "y"), "key") is True
        assert len(statements) == before  # nothing asked or written yet: it all goes at commit
        session.commit()
    assert _keys(engine) == ["new-1", "new-2", "old"]


def test_a_key_outside_the_preload_gets_its_own_statement(engine: sa.Engine) -> None:
    statements = _statements(engine)
    with Session(engine) as session:
        preload_present(session, notes, "key", ["a"])
        before = len(statements)
        assert insert_unless_present(session, notes, Note(1, "b", "elsewhere"), "key") is True
        assert len(statements) == before + 1
        session.commit()
    assert _keys(engine) == ["b"]


def test_the_unique_index_still_stops_a_row_inserted_meanwhile(database_url: str) -> None:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        with Session(engine) as batch:
            preload_present(batch, notes, "key", ["contested"])
            with Session(engine) as other:
                assert insert_unless_present(other, notes, Note(1, "contested", "other"), "key")
                other.commit()
            assert insert_unless_present(batch, notes, Note(2, "contested", "batch"), "key") is True
            with pytest.raises(IntegrityError):
                batch.commit()  # the batch fails as a whole and its events are handled again
        with engine.connect() as connection:
            assert connection.execute(sa.select(notes.c.text)).scalars().all() == ["other"]
    finally:
        engine.dispose()

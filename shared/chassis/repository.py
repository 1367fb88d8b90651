"""The base of every SQLAlchemy repository, and keyset pagination in SQL.

A repository hides the session from use cases: it adds and finds aggregates
(mapped imperatively in the service's ``adapters/orm.py``) and pages lists.
Services subclass ``SqlAlchemyRepository`` and add their own finders.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chassis.domain import RuleViolation
from chassis.pagination import KeyValue, Page, PageRequest, SortKey, _page, decode_cursor

T = TypeVar("T")


BATCH_CACHE = "chassis.batch_cache"


def batch_cache(session: Session) -> dict[Any, Any]:
    """What the units of work of one transaction know already: filled by a unit of work's
    ``prepare_batch`` (``preload``), kept true by the repositories that use it. Dropped whenever a
    handler's work is rolled back (the repositories then ask the database), so a write that was
    undone is never remembered."""
    cache: dict[Any, Any] = session.info.setdefault(BATCH_CACHE, {})
    return cache


def preload(session: Session, model: type[T], keys: Sequence[Any]) -> list[T]:
    """Load the ``model`` rows with these primary keys (one column) in one query, for the
    repositories' ``get`` of a consumer batch: the loaded ones from the session (kept referenced:
    its identity map holds them weakly), the others known absent without a query."""
    if not keys:
        return []
    mapper = sa.inspect(model)
    loaded = list(session.scalars(sa.select(model).where(mapper.primary_key[0].in_(list(keys)))))
    cache = batch_cache(session)
    cache.setdefault(("loaded", model), []).extend(loaded)
    found = {mapper.primary_key_from_instance(item)[0] for item in loaded}
    cache.setdefault(("absent", model), set()).update(set(keys) - found)
    return loaded


def known_absent(session: Session, model: type[Any], key: Any) -> bool:
    """Whether this transaction's ``preload`` found no ``model`` row with this primary key."""
    absent = batch_cache(session).get(("absent", model))
    return absent is not None and key in absent


def note_added(session: Session, item: Any) -> None:
    """``item`` was added: no longer absent, and kept referenced for the rest of the batch."""
    cache = batch_cache(session)
    model = type(item)
    absent = cache.get(("absent", model))
    if absent:
        absent.discard(sa.inspect(model).primary_key_from_instance(item)[0])
        cache[("loaded", model)].append(item)


def insert_for(session: Session, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect}")


_STATEMENTS: dict[tuple[str, str], Any] = {}


def statement_for(session: Session, name: str, build: Any) -> Any:
    """One statement object per dialect and purpose, built once: SQLAlchemy then finds its
    compiled form by a memoised cache key instead of building a statement for every row."""
    key = (session.get_bind().dialect.name, name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def preload_present(session: Session, table: sa.Table, key: str, values: Collection[Any]) -> None:
    """For a consumer batch: which of ``values`` the unique column ``key`` holds already, in one
    query; ``insert_unless_present`` then answers for them without a statement per row."""
    wanted = set(values)
    if not wanted:
        return
    column = table.c[key]
    present = set(session.scalars(sa.select(column).where(column.in_(sorted(wanted)))))
    batch_cache(session)[("present", table.name, key)] = (wanted, present)


def insert_unless_present(session: Session, table: sa.Table, item: Any, key: str) -> bool:
    """Add ``item`` (mapped to ``table``) unless a row with its value of the unique column ``key``
    exists; whether it was added.

    Known from the batch's ``preload_present``: then the row is added to the session and goes out
    with the batch's other rows at commit (the unique index still guards it: a concurrent insert
    fails the batch, whose events are then handled again). Otherwise one atomic INSERT ... ON
    CONFLICT DO NOTHING, so two handlers of the same event never both insert it."""
    value = getattr(item, key)
    known = batch_cache(session).get(("present", table.name, key))
    if known is not None and value in known[0]:
        present: set[Any] = known[1]
        if value in present:
            return False
        present.add(value)
        session.add(item)
        return True
    stmt = statement_for(
        session,
        f"insert_unless_present.{table.name}.{key}",
        # RETURNING, not the rowcount: psycopg's pipeline mode (chassis.db) reports -1 for it.
        lambda: (
            insert_for(session, table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        ),
    )
    values = {column.name: getattr(item, column.name) for column in table.columns}
    return session.execute(stmt, values).first() is not None


class SqlAlchemyRepository(Generic[T]):
    """``add`` and ``get`` by primary key for one aggregate type; subclasses add finders.

    In a consumer batch whose unit of work preloaded the aggregates (``preload``), ``get``
    answers from the session without a query."""

    model: type[T]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: T) -> None:
        note_added(self.session, item)
        self.session.add(item)

    def get(self, key: Any) -> T | None:
        if known_absent(self.session, self.model, key):
            return None
        return self.session.get(self.model, key)

    def delete(self, item: T) -> None:
        self.session.delete(item)

    def page(
        self,
        stmt: sa.Select[T],
        order: Sequence[SortKey],
        request: PageRequest,
    ) -> Page[T]:
        return keyset_page(self.session, stmt, order, request)


def _column(stmt: sa.Select[Any], name: str) -> sa.ColumnElement[Any]:
    entity = stmt.column_descriptions[0]["entity"]
    column: sa.ColumnElement[Any] = getattr(entity, name)
    return column


def keyset_condition(
    columns: Sequence[sa.ColumnElement[Any]], order: Sequence[SortKey], key: Sequence[KeyValue]
) -> sa.ColumnElement[bool]:
    """Rows strictly after ``key`` in ``order``: (a > x) OR (a = x AND b > y) OR …, per direction.

    The leading ``a >= x`` (``<=`` when descending) is implied by the alternatives, but said
    on its own it is an index condition: the database starts reading at the cursor instead of
    filtering every row before it, so a deep page costs what the first one does.
    """
    alternatives = []
    for depth, part in enumerate(order):
        equal = [columns[i] == key[i] for i in range(depth)]
        beyond = columns[depth] < key[depth] if part.descending else columns[depth] > key[depth]
        alternatives.append(sa.and_(*equal, beyond))
    first = columns[0] <= key[0] if order[0].descending else columns[0] >= key[0]
    return sa.and_(first, sa.or_(*alternatives))


def keyset_page(
    session: Session,
    stmt: sa.Select[T],
    order: Sequence[SortKey],
    request: PageRequest,
) -> Page[T]:
    """One page of ``stmt`` (a select of one mapped entity) in ``order``, after the cursor.

    The last part of ``order`` must be unique, and an index should cover the order
    (with the list's filters in front) so that the database seeks to the cursor.
    """
    columns = [_column(stmt, part.name) for part in order]
    if request.cursor is not None:
        key = decode_cursor(request.cursor, len(order))
        _check_key_types(columns, key)
        stmt = stmt.where(keyset_condition(columns, order, key))
    stmt = stmt.order_by(
        *[col.desc() if part.descending else col.asc() for col, part in zip(columns, order, strict=True)]
    )
    rows = session.scalars(stmt.limit(request.limit + 1)).all()

    def key_of(item: T) -> tuple[KeyValue, ...]:
        return tuple(getattr(item, part.name) for part in order)

    return _page(rows, request.limit, key_of)


_CHECKED_TYPES = (bool, int, float, str, datetime, date, uuid.UUID)


def _check_key_types(columns: Sequence[sa.ColumnElement[Any]], key: Sequence[KeyValue]) -> None:
    """A forged cursor (right width, values of other types) is a 422 on ``cursor``, not a database error."""
    for column, value in zip(columns, key, strict=True):
        try:
            expected = column.type.python_type
        except NotImplementedError:
            continue
        if expected not in _CHECKED_TYPES:
            continue
        fits = type(value) is expected or (expected is float and type(value) is int)
        if fits and isinstance(value, datetime) and value.tzinfo is None:
            # A zone-aware column (chassis.db.UtcDateTime) refuses naive values.
            fits = not getattr(getattr(column.type, "impl", column.type), "timezone", False)
        if not fits:
            raise RuleViolation({"cursor": "Not a cursor of this list; start again without one."})

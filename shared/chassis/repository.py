"""The base of every SQLAlchemy repository, and keyset pagination in SQL.

A repository hides the session from use cases: it adds and finds aggregates
(mapped imperatively in the service's ``adapters/orm.py``) and pages lists.
Services subclass ``SqlAlchemyRepository`` and add their own finders.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from chassis.domain import RuleViolation
from chassis.pagination import KeyValue, Page, PageRequest, SortKey, _page, decode_cursor

T = TypeVar("T")


class SqlAlchemyRepository(Generic[T]):
    """``add`` and ``get`` by primary key for one aggregate type; subclasses add finders."""

    model: type[T]

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: T) -> None:
        self.session.add(item)

    def get(self, key: Any) -> T | None:
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

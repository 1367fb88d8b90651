"""Keyset (cursor) pagination, the one way every list pages.

A page is asked for with a ``PageRequest`` (an opaque cursor and a limit) and
answered with a ``Page`` (the items and the cursor of the next page, or none).
The cursor holds the sort key of the last item shown, so the database seeks
straight to it through an index: the cost of a page does not grow with the
table, unlike ``count(*)`` + ``OFFSET``. There is deliberately no total count.

Pure Python: the SQL side is ``chassis.repository.keyset_page``, the in-memory
side (fakes) is ``paginate_in_memory`` below; both order and cut the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from chassis.domain import RuleViolation

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True)
class PageRequest:
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise RuleViolation({"limit": f"Must be between 1 and {MAX_LIMIT}."})


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T] = field(default_factory=tuple)
    next_cursor: str | None = None


KeyValue = str | int | float | bool | date | datetime | uuid.UUID | None


def _encode_value(value: KeyValue) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> KeyValue:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if isinstance(text, str):
            if tag == "dt":
                return datetime.fromisoformat(text)
            if tag == "d":
                return date.fromisoformat(text)
            if tag == "u":
                return uuid.UUID(text)
        raise ValueError("unknown cursor value")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("unknown cursor value")


def encode_cursor(key: Sequence[KeyValue]) -> str:
    raw = json.dumps([_encode_value(v) for v in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> tuple[KeyValue, ...]:
    """The sort key a cursor holds; a cursor that was not ours is a 422 on ``cursor``."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return tuple(_decode_value(v) for v in values)
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise RuleViolation({"cursor": "Not a cursor of this list; start again without one."}) from None


@dataclass(frozen=True)
class SortKey:
    """One part of a list's order. The last part of every order must be unique (a tie-breaker)."""

    name: str
    descending: bool = False


def paginate_in_memory(
    items: Iterable[T],
    order: Sequence[SortKey],
    request: PageRequest,
    value: Callable[[T, str], KeyValue] = getattr,
) -> Page[T]:
    """The same cut as ``keyset_page`` over a Python list (fake repositories in unit tests)."""

    def key_of(item: T) -> tuple[KeyValue, ...]:
        return tuple(value(item, part.name) for part in order)

    def after(key: tuple[Any, ...], cursor: tuple[Any, ...]) -> bool:
        for part, mine, theirs in zip(order, key, cursor, strict=True):
            if mine == theirs:
                continue
            return (mine < theirs) if part.descending else (mine > theirs)
        return False

    ordered = list(items)
    # Stable sorts from the last key to the first give the combined order, each in its direction.
    for index in reversed(range(len(order))):

        def part(item: T, i: int = index) -> Any:
            return key_of(item)[i]

        ordered.sort(key=part, reverse=order[index].descending)
    if request.cursor is not None:
        start = decode_cursor(request.cursor, len(order))
        ordered = [item for item in ordered if after(key_of(item), start)]
    chunk = ordered[: request.limit + 1]
    return _page(chunk, request.limit, key_of)


def _page(chunk: Sequence[T], limit: int, key_of: Callable[[T], tuple[KeyValue, ...]]) -> Page[T]:
    """``chunk`` holds up to ``limit + 1`` items; the extra one only says there is a next page."""
    items = tuple(chunk[:limit])
    next_cursor = encode_cursor(key_of(items[-1])) if len(chunk) > limit else None
    return Page(items=items, next_cursor=next_cursor)

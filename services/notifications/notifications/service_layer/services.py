"""Use cases of the notices API; each is one unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from notifications.domain.model import Notice, NoticeAudience


class NoticeNotFound(LookupError):
    """No such notice, or not the caller's: the two are indistinguishable on purpose."""


@dataclass(frozen=True)
class NoticePage:
    items: list[Notice]
    unread_count: int


def list_notices(
    uow_factory: Callable[[], Any],
    audience: NoticeAudience,
    reader: str,
    *,
    unread_only: bool = False,
    limit: int = 50,
) -> NoticePage:
    with uow_factory() as uow:
        return NoticePage(
            items=uow.notices.list_visible(audience, reader, unread_only=unread_only, limit=limit),
            unread_count=uow.notices.count_unread(audience, reader),
        )


def mark_notice_read(
    uow_factory: Callable[[], Any],
    audience: NoticeAudience,
    reader: str,
    notice_id: str,
    *,
    now: datetime | None = None,
) -> Notice:
    with uow_factory() as uow:
        if uow.notices.get_visible(notice_id, audience, reader) is None:
            raise NoticeNotFound(notice_id)
        uow.notices.mark_read(notice_id, reader, now or datetime.now(UTC))
        uow.commit()
    with uow_factory() as uow:
        notice = uow.notices.get_visible(notice_id, audience, reader)
    assert notice is not None
    return notice

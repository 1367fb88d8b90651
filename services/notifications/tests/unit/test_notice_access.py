"""Who sees which notice (the rules behind GET /notices), and per-reader read state."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chassis.domain import NotFound
from chassis.pagination import PageRequest
from chassis.principal import Principal
from notifications.domain import access
from notifications.domain.commands import MarkNoticeRead
from notifications.domain.messages import notice_for
from notifications.domain.model import NoticeAudience
from notifications.domain.queries import CountUnreadNotices, ListNotices
from notifications.service_layer import handlers
from notifications.service_layer.handlers import issued_document


def principal(sub: str = "someone", **claims: Any) -> Principal:
    return Principal.from_claims({"sub": sub, **claims})


@pytest.mark.parametrize(
    ("apprentice_number", "company_roles", "expected"),
    [
        (None, {"4711001": ["admin"]}, NoticeAudience(None, frozenset({"4711001"}))),
        (None, {"4711001": ["manager"]}, NoticeAudience(None, frozenset({"4711001"}))),
        (None, {"4711001": ["trainer"]}, NoticeAudience(None, frozenset())),
        ("20260001", {}, NoticeAudience("20260001", frozenset())),
        (None, {}, NoticeAudience(None, frozenset())),  # e.g. chamber staff
    ],
)
def test_audience_from_claims(apprentice_number, company_roles, expected) -> None:
    caller = principal(apprentice_number=apprentice_number, company_roles=company_roles)
    assert access.notice_audience(caller) == expected


def test_someone_elses_notice_does_not_exist_for_the_caller(issued_event, clock) -> None:
    notice = notice_for(issued_document(issued_event(kind="company")), clock.now)
    admin = principal(company_roles={"4711001": ["admin"]})
    assert access.visible_notice(admin, notice) is notice
    for stranger in (principal(company_roles={"9999999": ["admin"]}), principal(roles=["chamber_admin"])):
        with pytest.raises(NotFound):
            access.visible_notice(stranger, notice)
    with pytest.raises(NotFound):
        access.visible_notice(admin, None)


def test_listing_and_reading_are_scoped_and_per_reader(fake_uow, issued_event, clock) -> None:
    mine = notice_for(issued_document(issued_event(kind="company")), clock.now)
    other = notice_for(
        issued_document(issued_event(kind="company", recipient={"company_number": "9999999"})), clock.now
    )
    fake_uow.notices.add(mine)
    fake_uow.notices.add(other)
    admin_1 = principal("admin-1", company_roles={"4711001": ["admin"]})
    admin_2 = principal("admin-2", company_roles={"4711001": ["admin"]})

    def listed(caller: Principal) -> list[str]:
        page = handlers.list_notices(ListNotices(caller, PageRequest()), fake_uow)
        return [n.notice.id for n in page.items]

    def unread(caller: Principal) -> int:
        return handlers.count_unread_notices(CountUnreadNotices(caller), fake_uow)

    assert listed(admin_1) == [mine.id] and unread(admin_1) == 1

    read = handlers.mark_notice_read(MarkNoticeRead(admin_1, mine.id), fake_uow, clock=clock)
    assert read.read_at == clock.now and read.read
    assert unread(admin_1) == 0
    assert unread(admin_2) == 1  # a colleague's own state
    clock.advance(60)
    again = handlers.mark_notice_read(MarkNoticeRead(admin_1, mine.id), fake_uow, clock=clock)
    assert again.read_at == read.read_at  # the first read time stays

    with pytest.raises(NotFound):
        handlers.mark_notice_read(MarkNoticeRead(admin_1, other.id), fake_uow, clock=clock)
    with pytest.raises(NotFound):
        handlers.mark_notice_read(MarkNoticeRead(admin_1, str(uuid.uuid4())), fake_uow, clock=clock)


def test_the_list_pages_newest_first_and_can_leave_out_read_ones(fake_uow, issued_event, clock) -> None:
    ids = []
    for _ in range(5):
        notice = notice_for(issued_document(issued_event(kind="apprentice")), clock.now)
        fake_uow.notices.add(notice)
        ids.append(notice.id)
        clock.advance(1)
    apprentice = principal("lena", roles=["apprentice"], apprentice_number="20269999")
    handlers.mark_notice_read(MarkNoticeRead(apprentice, ids[3]), fake_uow, clock=clock)

    first = handlers.list_notices(ListNotices(apprentice, PageRequest(limit=2)), fake_uow)
    assert [n.notice.id for n in first.items] == [ids[4], ids[3]] and first.next_cursor
    assert [n.read for n in first.items] == [False, True]
    rest = handlers.list_notices(
        ListNotices(apprentice, PageRequest(cursor=first.next_cursor, limit=5)), fake_uow
    )
    assert [n.notice.id for n in rest.items] == [ids[2], ids[1], ids[0]] and rest.next_cursor is None

    unread = handlers.list_notices(ListNotices(apprentice, PageRequest(), unread_only=True), fake_uow)
    assert [n.notice.id for n in unread.items] == [ids[4], ids[2], ids[1], ids[0]]


def test_people_without_an_audience_see_nothing(fake_uow, issued_event, clock) -> None:
    fake_uow.notices.add(notice_for(issued_document(issued_event(kind="company")), clock.now))
    for caller in (principal(roles=["chamber_clerk"]), principal(company_roles={"4711001": ["trainer"]})):
        assert handlers.list_notices(ListNotices(caller, PageRequest()), fake_uow).items == ()
        assert handlers.count_unread_notices(CountUnreadNotices(caller), fake_uow) == 0

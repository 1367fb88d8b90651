"""Who sees which notice (the rule behind GET /notices), and per-reader read state."""

from __future__ import annotations

import uuid

import pytest

from notifications.domain.messages import notice_for
from notifications.domain.model import DocumentIssued, NoticeAudience, audience_from_claims
from notifications.service_layer import services


@pytest.mark.parametrize(
    ("apprentice_number", "company_roles", "expected"),
    [
        (None, {"4711001": frozenset({"admin"})}, NoticeAudience(None, frozenset({"4711001"}))),
        (None, {"4711001": frozenset({"manager"})}, NoticeAudience(None, frozenset({"4711001"}))),
        (None, {"4711001": frozenset({"trainer"})}, NoticeAudience(None, frozenset())),
        ("20260001", {}, NoticeAudience("20260001", frozenset())),
        (None, {}, NoticeAudience(None, frozenset())),  # e.g. chamber staff
    ],
)
def test_audience_from_claims(apprentice_number, company_roles, expected) -> None:
    assert audience_from_claims(apprentice_number, company_roles) == expected


def test_listing_and_reading_are_scoped_and_per_reader(fake_uow, issued_payload, clock) -> None:
    mine = notice_for(DocumentIssued.from_event(str(uuid.uuid4()), issued_payload("company")), clock.now)
    other = notice_for(
        DocumentIssued.from_event(
            str(uuid.uuid4()), issued_payload("company", recipient={"company_number": "9999999"})
        ),
        clock.now,
    )
    fake_uow.notices.add(mine)
    fake_uow.notices.add(other)
    admins = NoticeAudience(None, frozenset({"4711001"}))

    page = services.list_notices(fake_uow, admins, "admin-1")
    assert [n.id for n in page.items] == [mine.id] and page.unread_count == 1

    read = services.mark_notice_read(fake_uow, admins, "admin-1", mine.id, now=clock.now)
    assert read.read_at == clock.now
    assert services.list_notices(fake_uow, admins, "admin-1").unread_count == 0
    assert services.list_notices(fake_uow, admins, "admin-2").unread_count == 1  # a colleague's own state

    with pytest.raises(services.NoticeNotFound):
        services.mark_notice_read(fake_uow, admins, "admin-1", other.id)

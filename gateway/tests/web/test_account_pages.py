"""The chamber's account pages: "Zugangssperren" (find, see the lock, lift it) and "Protokoll" (audit log)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from gateway.web.account_admin import AccountLock, AuditEntry

LOCKED = AccountLock(
    account_id="0b9f4a36-5f7c-4a57-9d43-0d1f3c4d5e6f",
    name="Lena Lernwillig",
    email="lena@example.org",
    apprentice_number="20260001",
    status="active",
    locked_until=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
    failed_logins=0,
)


def unlock_token(html: str) -> str:
    match = re.search(r'name="entsperren-form_token" type="hidden" value="([^"]+)"', html)
    assert match, "no unlock form"
    return match.group(1)


@pytest.fixture
def locked(fake_services):  # type: ignore[no-untyped-def]
    fake_services.account_locks["20260001"] = LOCKED
    return LOCKED


@pytest.mark.parametrize("role", ["apprentice", "company_admin", "trainer"])
def test_only_the_chamber_reaches_the_account_pages(client, login, role: str) -> None:
    login(role)
    assert client.get("/kammer/zugaenge").status_code == 403
    assert client.get("/kammer/protokoll").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client) -> None:
    for path in ("/kammer/zugaenge", "/kammer/protokoll"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "anmelden" in response.headers["Location"]


def test_clerks_unlock_but_only_administrators_read_the_log(client, login) -> None:
    login("clerk")
    assert client.get("/kammer/zugaenge").status_code == 200
    assert client.get("/kammer/protokoll").status_code == 403


def test_the_clerk_finds_a_locked_account_and_lifts_the_lock(
    client, login, fake_services, locked, csrf_token
) -> None:
    login("clerk")
    page = client.get("/kammer/zugaenge", query_string={"suche": " 20260001 "})
    html = page.get_data(as_text=True)
    assert "Lena Lernwillig" in html and "gesperrt bis 25.11.2026 um 09:00 Uhr" in html
    assert ">Sperre aufheben</button>" in html
    done = client.post(
        f"/kammer/zugaenge/{locked.account_id}/entsperren",
        data={
            "csrf_token": csrf_token(html),
            "entsperren-form_token": unlock_token(html),
            "suche": "20260001",
        },
    )
    assert done.status_code == 303, done.get_data(as_text=True)
    assert fake_services.unlocked == [locked.account_id]
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Die Sperre wurde aufgehoben" in after and "nicht gesperrt" in after


def test_an_unknown_account_is_said_plainly(client, login) -> None:
    login("clerk")
    html = client.get("/kammer/zugaenge", query_string={"suche": "niemand@example.org"}).get_data(
        as_text=True
    )
    assert "gibt es keinen Zugang" in html


def test_the_unlock_form_needs_its_csrf_token(client, login, locked) -> None:
    login("clerk")
    response = client.post(f"/kammer/zugaenge/{locked.account_id}/entsperren", data={"suche": "20260001"})
    assert response.status_code == 400


def test_the_audit_log_filters_by_account_kind_and_german_days(client, login, fake_services, locked) -> None:
    fake_services.audit_entries = [
        AuditEntry(
            entry_id="e1",
            at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
            kind="account.locked_out",
            label="Zugang gesperrt (Fehlversuche)",
            account_id=locked.account_id,
            actor_id=None,
            on_behalf_of=None,
            details={"client": "203.0.113.9"},
        )
    ]
    login("chamber_admin")
    page = client.get(
        "/kammer/protokoll",
        query_string={
            "suche": "20260001",
            "art": "account.locked_out",
            "von": "24.11.2026",
            "bis": "24.11.2026",
        },
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Zugang gesperrt (Fehlversuche)" in html and "24.11.2026 um 09:00 Uhr" in html
    assert "client: 203.0.113.9" in html
    [(query, cursor)] = fake_services.audit_queries
    assert query.account_id == locked.account_id and query.kind == "account.locked_out" and cursor is None
    # German days: 24.11. from 00:00 to 24:00 Berlin time (UTC+1 in November).
    assert query.since == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert query.until == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_a_wrong_date_range_is_named(client, login, fake_services) -> None:
    login("chamber_admin")
    page = client.get("/kammer/protokoll", query_string={"von": "25.11.2026", "bis": "24.11.2026"})
    assert page.status_code == 422
    assert "„Bis“ darf nicht vor „Von“ liegen." in page.get_data(as_text=True)
    assert fake_services.audit_queries == []


def test_the_start_page_links_to_the_registration(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert ">Registrieren</a>" in html and "/register" in html

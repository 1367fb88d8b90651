"""The mails about a person's own access, and one-time links leaving the stored mails once void."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chassis.events.consumer import parse_message
from chassis.events.envelope import new_envelope
from notifications.domain.commands import VoidExpiredLinks
from notifications.domain.messages import VOID_LINK
from notifications.service_layer import account_mails, handlers

ACCOUNT = str(uuid.uuid4())
FORGOTTEN = "https://portal.example/auth/password/forgotten"
CONFIRM = "https://portal.example/auth/register/confirm/Geheimes-Token_xyz"
RESET = "https://portal.example/auth/password/reset/Einmal-Token_abc123"
EXPIRES = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def received(event_type: str, **payload: Any) -> Any:
    envelope = new_envelope(producer="identity", event_type=event_type, subject=ACCOUNT, payload=payload)
    return parse_message(envelope.to_json())


def person(**extra: Any) -> dict[str, Any]:
    return {"account_id": ACCOUNT, "email": "rita@example.org", "name": "Rita Registriert"} | extra


def test_registration_mail_carries_the_link_and_its_deadline(fake_uow, clock) -> None:
    account_mails.registration_requested(
        received(
            "identity.registration.requested", **person(confirm_url=CONFIRM, expires_at=EXPIRES.isoformat())
        ),
        fake_uow,
        clock=clock,
    )
    [mail] = fake_uow.mails.all()
    assert mail.subject == "Bildungsportal: Registrierung bestätigen"
    assert CONFIRM in mail.text_body and CONFIRM in mail.html_body
    assert "gültig bis 25.11.2026, 09:00 Uhr" in mail.text_body
    assert (mail.account_id, mail.link_kind, mail.link_expires_at) == (ACCOUNT, "registration", EXPIRES)
    assert fake_uow.mail_queued


def test_existing_account_mail_points_to_password_forgotten_and_has_no_link(fake_uow, clock) -> None:
    account_mails.registration_for_existing_account(
        received("identity.registration.existing_account", **person(password_forgotten_url=FORGOTTEN)),
        fake_uow,
        clock=clock,
    )
    [mail] = fake_uow.mails.all()
    assert "bereits einen Zugang" in mail.text_body and FORGOTTEN in mail.text_body
    assert "/register/confirm/" not in mail.text_body and mail.link_kind is None


def test_lockout_mail_names_the_end_and_the_way_out(fake_uow, clock) -> None:
    account_mails.account_locked_out(
        received(
            "identity.account.locked_out",
            **person(locked_until=EXPIRES.isoformat(), password_forgotten_url=FORGOTTEN),
        ),
        fake_uow,
        clock=clock,
    )
    [mail] = fake_uow.mails.all()
    assert mail.subject == "Bildungsportal: Ihr Zugang ist vorübergehend gesperrt"
    assert "bis 25.11.2026, 09:00 Uhr gesperrt" in mail.text_body
    assert "Passwort vergessen" in mail.text_body and FORGOTTEN in mail.text_body


def test_password_changed_mail_has_no_secret(fake_uow, clock) -> None:
    account_mails.password_changed(
        received(
            "identity.password.changed",
            **person(changed_at=EXPIRES.isoformat(), how="reset", password_forgotten_url=FORGOTTEN),
        ),
        fake_uow,
        clock=clock,
    )
    [mail] = fake_uow.mails.all()
    assert mail.subject == "Bildungsportal: Ihr Passwort wurde geändert"
    assert "am 25.11.2026, 09:00 Uhr über den Link" in mail.text_body
    assert "/password/reset/" not in mail.text_body and mail.link_kind is None


def test_a_used_link_leaves_the_stored_mail_and_a_newer_one_stays(fake_uow, clock, reset_event) -> None:
    handlers.password_reset_requested(reset_event(account_id=ACCOUNT), fake_uow, clock=clock)
    newer = RESET.replace("abc123", "newer")
    handlers.password_reset_requested(
        reset_event(account_id=ACCOUNT, reset_url=newer, expires_at="2026-11-24T15:30:00+00:00"),
        fake_uow,
        clock=clock,
    )
    account_mails.account_link_used(
        received(
            "identity.account_link.used",
            account_id=ACCOUNT,
            link="password_reset",
            expires_at="2026-11-24T14:30:00+00:00",
        ),
        fake_uow,
        clock=clock,
    )
    used, kept = sorted(fake_uow.mails.all(), key=lambda m: m.link_expires_at)
    assert RESET not in used.text_body and RESET not in used.html_body
    assert VOID_LINK in used.text_body and VOID_LINK in used.html_body
    assert "gültig bis 24.11.2026, 15:30 Uhr" in used.text_body  # the rest of the mail stays
    assert used.link_voided_at == clock.now
    assert newer in kept.text_body and kept.link_voided_at is None


def test_the_scrub_removes_expired_links_only(fake_uow, clock) -> None:
    for expires in (clock.now - timedelta(minutes=1), clock.now + timedelta(hours=1)):
        account_mails.registration_requested(
            received(
                "identity.registration.requested",
                **person(confirm_url=CONFIRM, expires_at=expires.isoformat()),
            ),
            fake_uow,
            clock=clock,
        )
    assert account_mails.void_expired_links(VoidExpiredLinks(), fake_uow, clock=clock) == 1
    expired, open_ = sorted(fake_uow.mails.all(), key=lambda m: m.link_expires_at)
    assert CONFIRM not in expired.text_body and VOID_LINK in expired.text_body
    assert CONFIRM in open_.text_body
    assert account_mails.void_expired_links(VoidExpiredLinks(), fake_uow, clock=clock) == 0

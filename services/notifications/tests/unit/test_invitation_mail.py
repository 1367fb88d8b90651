"""The invitation mail (Account erstellen): German, with the one-time link and its deadline; none for an active account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chassis.contracts.identity import AccountInvited
from chassis.events.catalogue import load_payload, outgoing_envelope
from chassis.events.incoming import IncomingEvent
from notifications.service_layer.invitations import account_invited

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
LINK = "https://portal.example/auth/invitation/Einmal-Token_abc123"


def incoming(**overrides: object) -> IncomingEvent[AccountInvited]:
    values: dict[str, object] = {
        "account_id": uuid.uuid4(),
        "email": "tina@example.org",
        "name": "Tina <b>Trainer</b>",
        "account_status": "invited",
        "invite_url": LINK,
        "expires_at": datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
        "company_number": "4711001",
        "company_role": "trainer",
        "apprentice_number": None,
        "trainer_id": uuid.uuid4(),
    } | overrides
    envelope = outgoing_envelope(AccountInvited(**values), producer="identity", subject="x")  # type: ignore[arg-type]
    typed = load_payload(envelope.type, envelope.version, envelope.payload)
    return IncomingEvent(envelope, typed)  # type: ignore[arg-type]


def test_an_invitation_queues_one_german_mail_with_the_link(fake_uow) -> None:  # type: ignore[no-untyped-def]
    event = incoming()
    account_invited(event, fake_uow, clock=lambda: NOW)
    account_invited(event, fake_uow, clock=lambda: NOW)  # once per event
    [mail] = fake_uow.mails.all()
    assert fake_uow.mail_queued
    assert mail.recipient_email == "tina@example.org"
    assert mail.subject == "Bildungsportal: Ihr Zugang wurde eingerichtet"
    assert f"    {LINK}\n" in mail.text_body
    assert "gültig bis 01.12.2026, 14:30 Uhr" in mail.text_body
    assert f'<a href="{LINK}"' in mail.html_body
    assert "<b>Trainer</b>" not in mail.html_body  # escaped


def test_an_active_account_gets_no_mail(fake_uow) -> None:  # type: ignore[no-untyped-def]
    account_invited(
        incoming(account_status="active", invite_url=None, expires_at=None), fake_uow, clock=lambda: NOW
    )
    assert fake_uow.mails.all() == []
    assert not fake_uow.mail_queued


def test_the_link_stays_out_of_reprs() -> None:
    assert LINK not in repr(incoming().payload)

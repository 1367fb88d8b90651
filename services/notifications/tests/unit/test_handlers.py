"""The event handlers against fakes: a document gives one mail and one notice, a reset one mail; once."""

from __future__ import annotations

import uuid

from chassis.events.consumer import IncomingEvent, parse_message
from notifications.domain.model import MailStatus, PasswordResetRequested
from notifications.service_layer.handlers import (
    DOCUMENT_ISSUED,
    PASSWORD_RESET_REQUESTED,
    DocumentIssuedHandler,
    PasswordResetRequestedHandler,
    make_handlers,
)


def _event(issued_envelope, **overrides) -> IncomingEvent:
    return parse_message(issued_envelope(**overrides).to_json())


def test_handlers_are_registered_for_the_catalogued_events() -> None:
    assert set(make_handlers("https://portal.example/")) == {DOCUMENT_ISSUED, PASSWORD_RESET_REQUESTED}


def test_new_document_queues_one_mail_and_stores_one_notice(fake_uow, issued_envelope, clock) -> None:
    event = _event(issued_envelope, kind="company")
    DocumentIssuedHandler("https://portal.example/", clock)(event, fake_uow)

    [mail] = fake_uow.mails.rows.values()
    assert mail.status is MailStatus.PENDING and mail.attempts == 0
    assert mail.next_attempt_at == clock.now
    assert mail.recipient_email == "ausbildung@muster.example"
    assert mail.message_id == f"<{event.envelope.id}@bildungsportal>"
    assert fake_uow.mail_queued
    [notice] = fake_uow.notices.rows.values()
    assert notice.company_number == "4711001"
    assert notice.document_id == str(event.data["document_id"])


def test_the_same_event_twice_changes_nothing_the_second_time(fake_uow, issued_envelope, clock) -> None:
    handler = DocumentIssuedHandler("https://portal.example/", clock)
    event = _event(issued_envelope)
    handler(event, fake_uow)
    handler(event, fake_uow)
    assert len(fake_uow.mails.rows) == 1
    assert len(fake_uow.notices.rows) == 1


def test_two_documents_give_two_mails(fake_uow, issued_envelope, clock) -> None:
    handler = DocumentIssuedHandler("https://portal.example/", clock)
    handler(_event(issued_envelope), fake_uow)
    handler(_event(issued_envelope, document_id=str(uuid.uuid4())), fake_uow)
    assert len({m.message_id for m in fake_uow.mails.rows.values()}) == 2


def test_reset_request_queues_one_mail_and_no_notice(fake_uow, reset_envelope, clock) -> None:
    handler = PasswordResetRequestedHandler(clock)
    event = parse_message(reset_envelope().to_json())
    handler(event, fake_uow)
    handler(event, fake_uow)  # replayed: still one mail

    [mail] = fake_uow.mails.rows.values()
    assert mail.status is MailStatus.PENDING and mail.next_attempt_at == clock.now
    assert mail.recipient_email == "paula@example.org"
    assert mail.message_id == f"<{event.envelope.id}@bildungsportal>"
    assert "https://portal.example/auth/password/reset/Einmal-Token_abc123" in mail.text_body
    assert fake_uow.mail_queued
    assert fake_uow.notices.rows == {}


def test_reset_event_data_stays_out_of_the_repr(reset_envelope) -> None:
    event = parse_message(reset_envelope().to_json())
    reset = PasswordResetRequested.from_event(event.envelope.id, event.data)
    assert "Einmal-Token" not in repr(reset)

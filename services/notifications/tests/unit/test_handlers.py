"""The use cases against fakes: a document gives one mail and one notice, a reset one mail; once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chassis.contracts.documents import DocumentIssued
from chassis.contracts.identity import DeputyshipApproved, PasswordResetRequested
from chassis.events.catalogue import consumed_by, load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, collect_use_cases, inject_dependencies
from notifications.bootstrap import USE_CASES
from notifications.domain.commands import RetryFailedMails
from notifications.domain.model import MailStatus
from notifications.domain.queries import ListMails
from notifications.service_layer import handlers

PORTAL = "https://portal.example/"


def test_handlers_are_registered_for_the_catalogued_events() -> None:
    assert set(handlers.EVENT_HANDLERS) == {
        DocumentIssued.TYPE,
        PasswordResetRequested.TYPE,
        DeputyshipApproved.TYPE,
    }
    assert set(collect_use_cases(USE_CASES).event_handlers) == consumed_by("notifications")


def test_new_document_queues_one_mail_and_stores_one_notice(fake_uow, issued_event, clock) -> None:
    event = issued_event(kind="company")
    handlers.document_issued(event, fake_uow, clock=clock, portal_url=PORTAL)

    [mail] = fake_uow.mails.all()
    assert mail.status is MailStatus.PENDING and mail.attempts == 0
    assert mail.next_attempt_at == clock.now
    assert mail.recipient_email == "ausbildung@muster.example"
    assert mail.message_id == f"<{event.envelope.id}@bildungsportal>"
    assert fake_uow.mail_queued
    [notice] = fake_uow.notices.all()
    assert notice.company_number == "4711001"
    assert notice.document_id == str(event.payload.document_id)
    assert fake_uow.commits == 1


def test_the_same_event_twice_changes_nothing_the_second_time(fake_uow, issued_event, clock) -> None:
    event = issued_event()
    handlers.document_issued(event, fake_uow, clock=clock, portal_url=PORTAL)
    handlers.document_issued(event, fake_uow, clock=clock, portal_url=PORTAL)
    assert len(fake_uow.mails) == 1
    assert len(fake_uow.notices) == 1
    assert fake_uow.commits == 1  # the replay found everything there and committed nothing


def test_two_documents_give_two_mails(fake_uow, issued_event, clock) -> None:
    handlers.document_issued(issued_event(), fake_uow, clock=clock, portal_url=PORTAL)
    handlers.document_issued(
        issued_event(document_id=str(uuid.uuid4())), fake_uow, clock=clock, portal_url=PORTAL
    )
    assert len({m.message_id for m in fake_uow.mails.all()}) == 2


def test_a_recipient_without_number_gets_the_mail_but_no_notice(fake_uow, issued_event, clock) -> None:
    event = issued_event(kind="apprentice", recipient={"apprentice_number": None})
    handlers.document_issued(event, fake_uow, clock=clock, portal_url=PORTAL)
    assert len(fake_uow.mails) == 1 and len(fake_uow.notices) == 0


def test_reset_request_queues_one_mail_and_no_notice(fake_uow, reset_event, clock) -> None:
    event = reset_event()
    handlers.password_reset_requested(event, fake_uow, clock=clock)
    handlers.password_reset_requested(event, fake_uow, clock=clock)  # replayed: still one mail

    [mail] = fake_uow.mails.all()
    assert mail.status is MailStatus.PENDING and mail.next_attempt_at == clock.now
    assert mail.recipient_email == "paula@example.org"
    assert mail.message_id == f"<{event.envelope.id}@bildungsportal>"
    assert "https://portal.example/auth/password/reset/Einmal-Token_abc123" in mail.text_body
    assert fake_uow.mail_queued
    assert fake_uow.notices.all() == []


def test_reset_event_data_stays_out_of_the_repr(reset_event) -> None:
    reset = handlers.password_reset(reset_event())
    assert "Einmal-Token" not in repr(reset)


def test_the_bus_binds_each_handler_its_dependencies_and_records_the_event_once(
    fake_uow, issued_event, reset_event, clock
) -> None:
    bus = MessageBus(
        lambda: fake_uow,
        consumer_name="notifications",
        event_handlers=inject_dependencies(handlers.EVENT_HANDLERS, {"clock": clock, "portal_url": PORTAL}),
    )
    document, reset = issued_event(), reset_event()
    assert bus.handle_event(document) == "handled"
    assert bus.handle_event(reset) == "handled"
    assert bus.handle_event(document) == "duplicate"
    assert fake_uow.handled == {("notifications", document.id), ("notifications", reset.id)}
    assert len(fake_uow.mails) == 2 and len(fake_uow.notices) == 1
    assert {m.created_at for m in fake_uow.mails.all()} == {clock.now}


def test_operators_list_and_requeue_failed_mails(fake_uow, issued_event, clock) -> None:
    for _ in range(3):
        handlers.document_issued(issued_event(), fake_uow, clock=clock, portal_url=PORTAL)
    first, second, _ = fake_uow.mails.all()
    first.record_failure("recipient refused (550)", retry_at=None)
    second.record_failure("recipient refused (550)", retry_at=None)
    fake_uow.mail_queued = False

    failed = handlers.list_mails(ListMails(MailStatus.FAILED), fake_uow)
    assert {m.id for m in failed} == {first.id, second.id}
    clock.advance(60)
    assert handlers.retry_failed_mails(RetryFailedMails(), fake_uow, clock=clock) == 2
    assert (first.status, first.attempts, first.next_attempt_at) == (MailStatus.PENDING, 0, clock.now)
    assert fake_uow.mail_queued  # the sender hears about them at once
    assert handlers.list_mails(ListMails(MailStatus.FAILED), fake_uow) == []


def deputyship_approved_event(has_account: bool) -> IncomingEvent[DeputyshipApproved]:
    payload = {
        "deputyship_id": str(uuid.uuid4()),
        "kind": "company",
        "represented_account_id": None,
        "company_number": "4711001",
        "represented_name": "Betrieb 4711001",
        "deputy_email": "detlef@example.org",
        "deputy_name": "Detlef Deputy",
        "deputy_has_account": has_account,
        "at": datetime(2026, 11, 29, 9, 0, tzinfo=UTC).isoformat(),
    }
    envelope = new_envelope(
        producer="identity",
        event_type=DeputyshipApproved.TYPE,
        subject=payload["deputyship_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, load_payload(envelope.type, envelope.version, payload))  # type: ignore[arg-type]


def test_an_approved_deputy_gets_one_mail(fake_uow, clock) -> None:
    event = deputyship_approved_event(has_account=True)
    handlers.deputyship_approved(event, fake_uow, clock=clock, portal_url=PORTAL)
    handlers.deputyship_approved(event, fake_uow, clock=clock, portal_url=PORTAL)  # replayed: still one
    [mail] = fake_uow.mails.all()
    assert mail.recipient_email == "detlef@example.org"
    assert "Betrieb 4711001" in mail.text_body and "Zum Programm" in mail.text_body
    assert fake_uow.notices.all() == []


def test_a_new_employee_is_told_that_the_invitation_follows(fake_uow, clock) -> None:
    handlers.deputyship_approved(
        deputyship_approved_event(has_account=False), fake_uow, clock=clock, portal_url=PORTAL
    )
    [mail] = fake_uow.mails.all()
    assert "Account erstellen" in mail.text_body

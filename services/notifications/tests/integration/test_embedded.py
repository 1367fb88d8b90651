"""Embedded mode: SQLite, kombu's in-memory bus and the mail sink, the same code path end to end."""

from __future__ import annotations

from chassis.events.consumer import parse_message
from notifications.adapters.mail_sink import MailSink, read_mails
from notifications.domain.model import MailStatus


def test_event_to_mail_in_the_sink(
    embedded_service, issued_envelope, smtp_port, tmp_path, wait_until
) -> None:
    sink = MailSink()
    sink.start(port=smtp_port, directory=tmp_path / "mails")
    try:
        embedded_service.start()
        envelope = issued_envelope(kind="company")
        embedded_service.publish(envelope)
        embedded_service.publish(envelope)
        wait_until(lambda: len(read_mails(tmp_path / "mails")) == 1)
        wait_until(lambda: embedded_service.mails()[0].status is MailStatus.SENT)
    finally:
        sink.stop()
    [mail] = read_mails(tmp_path / "mails")
    assert mail.message_id == f"<{envelope.id}@bildungsportal>"
    assert mail.recipients == ("Muster Maschinenbau GmbH <ausbildung@muster.example>",)
    assert "Profil – Dokumente" in mail.text
    assert len(embedded_service.mails()) == 1


def test_a_commit_that_queues_mail_wakes_the_sender_at_once(embedded_service, issued_envelope) -> None:
    runtime = embedded_service.runtime
    assert not runtime.mail_wakeup.is_set()
    with runtime.uow_factory() as uow:
        uow.queue_mail()  # and then no commit: nothing was queued after all
    with runtime.uow_factory() as uow:
        uow.commit()  # a commit without mail
    assert not runtime.mail_wakeup.is_set()

    assert runtime.bus.handle_event(parse_message(issued_envelope().to_json())) == "handled"
    assert runtime.mail_wakeup.is_set()


def test_in_a_consumer_batch_the_sender_is_woken_once_the_batch_has_landed(
    embedded_service, issued_envelope
) -> None:
    from chassis.contracts.documents import DocumentIssued
    from chassis.messagebus import MessageBus

    runtime = embedded_service.runtime
    first, second = (parse_message(issued_envelope().to_json()) for _ in range(2))
    woken_before_the_batch_landed = []

    def handler(event, uow) -> None:
        woken_before_the_batch_landed.append(runtime.mail_wakeup.is_set())
        with uow:
            uow.queue_mail()
            if event.id == second.id:
                raise RuntimeError("this one fails: its savepoint rolls back, the first one's mail stays")
            uow.commit()

    bus = MessageBus(
        runtime.uow_factory, consumer_name="notifications", event_handlers={DocumentIssued.TYPE: handler}
    )
    first_result, second_result = bus.handle_events([first, second])
    assert first_result == "handled" and isinstance(second_result, RuntimeError)
    # The bus's first try (no savepoints) stops at the failure; the second applies the first event
    # again with a savepoint. In neither was the sender woken before the batch landed.
    assert woken_before_the_batch_landed == [False, False, False]
    assert runtime.mail_wakeup.is_set()

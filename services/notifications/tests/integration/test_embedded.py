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

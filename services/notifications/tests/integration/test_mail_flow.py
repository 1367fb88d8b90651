"""documents.document.issued → consumer → mail outbox → SMTP, on real PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import logging
import time

from chassis.contracts.documents import DocumentIssued
from chassis.events import dlq
from chassis.testing.smtp import smtp_server
from notifications.domain.model import MailStatus

EVENT = DocumentIssued.TYPE


def test_one_mail_for_an_event_delivered_twice(pg_service, issued_envelope, smtp_port, wait_until) -> None:
    pg_service.start()
    envelope = issued_envelope(kind="apprentice")
    barrier = issued_envelope(kind="company")
    with smtp_server(port=smtp_port) as (_, _, received):
        pg_service.publish(envelope)
        pg_service.publish(envelope)  # the broker redelivers, or the producer's relay republished
        # One consumer takes the queue in order: once the barrier's mail is out,
        # the duplicate has been handled (and dropped) too.
        pg_service.publish(barrier)
        wait_until(lambda: len(received.messages) >= 2)
        time.sleep(0.5)
        messages = list(received.messages)

    assert len(messages) == 2
    mail = next(m for m in messages if m["Message-ID"] == f"<{envelope.id}@bildungsportal>")
    assert mail["To"].addresses[0].addr_spec == "lena@example.org"
    assert mail["Subject"] == "Neues Dokument im Bildungsportal: Eintragungsbestätigung 2026-000123"
    assert "„Dokumente“" in mail.get_body(preferencelist=("plain",)).get_content()
    assert {m["Message-ID"] for m in messages} == {
        f"<{envelope.id}@bildungsportal>",
        f"<{barrier.id}@bildungsportal>",
    }
    rows = pg_service.mails()
    assert sorted((r.status, r.attempts) for r in rows) == [(MailStatus.SENT, 1), (MailStatus.SENT, 1)]


def test_smtp_down_at_first_is_retried_and_delivered(
    pg_service, issued_envelope, smtp_port, wait_until
) -> None:
    pg_service.start()
    envelope = issued_envelope(kind="company")
    pg_service.publish(envelope)
    # Nothing listens on the SMTP port yet: the mail waits with its error noted.
    wait_until(lambda: any(m.attempts >= 1 and m.last_error for m in pg_service.mails()))
    [pending] = pg_service.mails()
    assert pending.status is MailStatus.PENDING
    assert "refused" in pending.last_error.lower()

    with smtp_server(port=smtp_port) as (_, _, received):
        [message] = received.wait_for(1, timeout=20)
        wait_until(lambda: pg_service.mails()[0].status is MailStatus.SENT)
    assert message["Message-ID"] == f"<{envelope.id}@bildungsportal>"
    assert message["To"].addresses[0].addr_spec == "ausbildung@muster.example"
    [sent] = pg_service.mails()
    assert sent.attempts >= 2 and sent.last_error is None and sent.sent_at is not None


def test_poison_event_is_dead_lettered_and_sends_nothing(
    pg_service, issued_envelope, issued_payload, smtp_port, wait_until
) -> None:
    pg_service.start()
    bad = issued_payload(kind="apprentice")
    del bad["recipient"]["email"]
    poison = issued_envelope(payload=bad)
    good = issued_envelope(kind="apprentice")
    queue = pg_service.runtime.broker.queue_name("notifications", EVENT)
    with smtp_server(port=smtp_port) as (_, _, received):
        pg_service.publish(poison)
        pg_service.publish(b"{not json", message_id="garbage")
        pg_service.publish(good)
        wait_until(lambda: len(dlq.inspect(pg_service.runtime.broker, queue)) == 2)
        received.wait_for(1, timeout=20)
        time.sleep(0.5)
        messages = list(received.messages)

    assert [m["Message-ID"] for m in messages] == [f"<{good.id}@bildungsportal>"]
    reasons = " ".join(letter.reason for letter in dlq.inspect(pg_service.runtime.broker, queue))
    assert "invalid payload" in reasons and "undecodable body" in reasons
    assert [m.idempotency_key for m in pg_service.mails()] == [good.id]
    with pg_service.runtime.uow_factory() as uow:
        assert not uow.already_handled("notifications", poison.id)


def test_reset_request_gives_exactly_one_mail_with_the_link(
    pg_service, reset_envelope, smtp_port, wait_until, caplog
) -> None:
    caplog.set_level(logging.INFO)
    pg_service.start()
    envelope = reset_envelope()
    link = envelope.payload["reset_url"]
    with smtp_server(port=smtp_port) as (_, _, received):
        pg_service.publish(envelope)
        pg_service.publish(envelope)  # redelivered: still one mail
        [message] = received.wait_for(1, timeout=20)
        wait_until(lambda: pg_service.mails()[0].status is MailStatus.SENT)
        time.sleep(0.5)
        assert len(received.messages) == 1

    assert message["Message-ID"] == f"<{envelope.id}@bildungsportal>"
    assert message["Subject"] == "Bildungsportal: Passwort zurücksetzen"
    assert message["To"].addresses[0].addr_spec == "paula@example.org"
    assert link in message.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(preferencelist=("html",)).get_content()
    with pg_service.runtime.uow_factory() as uow:
        assert uow.notices.get_by_source(envelope.id) is None
    # The logs follow the mail, but never show the link.
    assert f"mail <{envelope.id}@bildungsportal> sent" in caplog.text
    assert "Einmal-Token" not in caplog.text

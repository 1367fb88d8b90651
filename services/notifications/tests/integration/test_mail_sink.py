"""The development mail sink: a real SMTP server that keeps what it receives as .eml files."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from notifications.adapters.mail_sink import MailSink, read_mail, read_mails


@pytest.fixture
def sink(tmp_path):
    sink = MailSink()
    sink.start(host="127.0.0.1", port=0, directory=tmp_path / "mails")
    yield sink
    sink.stop()


def _send(sink: MailSink, subject: str, to: str, bcc: str | None = None) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Bildungsportal der IHK <noreply@bildungsportal.example>"
    message["To"] = to
    message["Date"] = "Tue, 24 Nov 2026 08:00:00 +0000"
    message["Message-ID"] = "<abc@bildungsportal>"
    message.set_content("Grüße aus dem Bildungsportal\n")
    message.add_alternative("<p>Grüße</p>", subtype="html")
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        smtp.send_message(message, to_addrs=[to] + ([bcc] if bcc else []))


def test_received_mails_are_stored_and_readable(sink) -> None:
    _send(sink, "Erste", "a@example.org")
    _send(sink, "Zweite Nachricht für Jürgen", "Jürgen Muster <j@example.org>", bcc="copy@example.org")
    mails = read_mails(sink.directory)
    assert [m.subject for m in mails] == ["Zweite Nachricht für Jürgen", "Erste"]  # newest first
    newest = mails[0]
    assert newest.sender == "Bildungsportal der IHK <noreply@bildungsportal.example>"
    assert newest.recipients == ("Jürgen Muster <j@example.org>",)
    assert newest.text == "Grüße aus dem Bildungsportal\n"
    assert newest.html is not None and "Grüße" in newest.html
    assert newest.date is not None and newest.date.year == 2026
    assert newest.message_id == "<abc@bildungsportal>"
    assert read_mail(sink.directory, newest.id) == newest
    assert len(list(sink.directory.glob("*.eml"))) == 2
    assert read_mails(sink.directory, limit=1) == [newest]


def test_read_mail_stays_inside_the_directory(sink, tmp_path) -> None:
    (tmp_path / "secret.eml").write_text("Subject: nope\n\nsecret\n")
    assert read_mail(sink.directory, "../secret") is None
    assert read_mail(sink.directory, "does-not-exist") is None


def test_garbage_files_do_not_break_the_list(sink) -> None:
    (sink.directory / "20000101T000000000000Z-broken.eml").write_bytes(b"\xff\xfe not a mail")
    _send(sink, "Gut", "a@example.org")
    assert "Gut" in [m.subject for m in read_mails(sink.directory)]


def test_empty_or_missing_directory_is_an_empty_mailbox(tmp_path) -> None:
    assert read_mails(tmp_path / "nowhere") == []


def test_sink_cannot_be_started_twice(sink) -> None:
    with pytest.raises(RuntimeError):
        sink.start(port=0)

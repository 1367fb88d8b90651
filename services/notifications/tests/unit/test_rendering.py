"""The hand-rendered MIME message reads back as what was queued, whatever the text (RFC 2045/2047/5322)."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.adapters.smtp import Sender, encoded_words, envelope_address, render_message
from notifications.domain.messages import mail_for, one_line
from notifications.domain.model import OutgoingMail
from notifications.service_layer.handlers import issued_document

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SENDER = Sender("Bildungsportal der IHK <noreply@bildungsportal.example>")


def _mail(**fields: str) -> OutgoingMail:
    values = {
        "id": "1",
        "idempotency_key": "k",
        "message_id": "<0b9f4a36-5f7c-4a57-9d43-0d1f3c4d5e6f@bildungsportal>",
        "recipient_name": "Lena Lernwillig",
        "recipient_email": "lena@example.org",
        "subject": "Neues Dokument im Bildungsportal: Eintragungsbestätigung 2026-000123",
        "text_body": "Guten Tag,\n\nText.\n",
        "html_body": "<p>Text</p>\n",
    } | fields
    return OutgoingMail(created_at=NOW, next_attempt_at=NOW, **values)


def _read(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def _lines(text: str) -> str:
    """Line breaks as the receiver's parser gives them back (CRLF on the wire)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _rfc2047(value: str) -> str:
    """What an RFC 2047 reader (the stdlib's compat32 one) makes of a header value."""
    return str(make_header(decode_header(value)))


def test_a_document_mail_reads_back_header_by_header(issued_event) -> None:
    queued = mail_for(issued_document(issued_event(kind="company")), "https://portal.example/", NOW)
    recipient, data = render_message(queued, SENDER)
    message = _read(data)
    assert recipient == "ausbildung@muster.example"
    assert message["Subject"] == "Neues Dokument im Bildungsportal: Eintragungsbestätigung 2026-000123"
    assert message["From"] == "Bildungsportal der IHK <noreply@bildungsportal.example>"
    assert message["To"].addresses[0].display_name == "Muster Maschinenbau GmbH"
    assert message["To"].addresses[0].addr_spec == "ausbildung@muster.example"
    assert message["Message-ID"] == queued.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "de"
    assert message["Date"].datetime.tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert _lines(plain.get_content()) == queued.text_body
    assert _lines(html.get_content()) == queued.html_body


def test_the_wire_format_is_ascii_crlf_and_short_lines(issued_event) -> None:
    queued = mail_for(issued_document(issued_event()), "https://portal.example/", NOW)
    _, data = render_message(queued, SENDER)
    data.decode("ascii")
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


def test_names_and_subjects_beyond_ascii_are_encoded_words() -> None:
    queued = _mail(recipient_name="Jürgen Müller, Dr.", subject="Prüfung „Teil 1“ bestätigt")
    _, data = render_message(queued, SENDER)
    message = _read(data)
    assert message["Subject"] == "Prüfung „Teil 1“ bestätigt"
    assert message["To"].addresses[0].display_name == "Jürgen Müller, Dr."
    assert b"=?utf-8?q?J=C3=BCrgen_M=C3=BCller=2C_Dr=2E?=" in data


def test_ascii_names_with_specials_are_quoted_and_encoded_word_lookalikes_encoded() -> None:
    _, data = render_message(_mail(recipient_name='Muster, "Die Azubis" GmbH', subject="=?x?q?no?="), SENDER)
    message = _read(data)
    assert message["To"].addresses[0].display_name == 'Muster, "Die Azubis" GmbH'
    assert message["Subject"] == "=?x?q?no?="


def test_an_internationalised_domain_goes_out_in_its_ascii_form() -> None:
    recipient, data = render_message(_mail(recipient_email="azubi@bäckerei-müller.de"), SENDER)
    assert recipient == "azubi@" + "bäckerei-müller.de".encode("idna").decode("ascii")
    assert recipient.startswith("azubi@xn--")
    assert _read(data)["To"].addresses[0].addr_spec == recipient


@pytest.mark.parametrize(
    "address",
    ["not an address <", "", "a b@example.org", "jürgen@example.org", "x@y.org\r\nRCPT TO:<z@y.org>"],
)
def test_addresses_that_cannot_be_written_are_refused(address: str) -> None:
    with pytest.raises(ValueError):
        envelope_address(address)


@pytest.mark.parametrize("field", ["subject", "recipient_name", "message_id"])
def test_a_header_value_with_a_line_break_is_refused(field: str) -> None:
    with pytest.raises(ValueError):
        render_message(_mail(**{field: "Eintragung\r\nBcc: victim@example.org"}), SENDER)


def test_a_bad_sender_setting_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="NOTIFICATIONS_MAIL_FROM"):
        Sender("Bildungsportal <kein-absender>")
    sender = Sender("Bildungsportal Köln <noreply@bildungsportal.example>")
    assert sender.envelope == "noreply@bildungsportal.example"
    assert _rfc2047(sender.header) == "Bildungsportal Köln <noreply@bildungsportal.example>"


def test_rendering_is_cheap(issued_event) -> None:
    """20,000 mails of a bulk import must not cost the sender seconds of CPU (the stdlib's
    EmailMessage took about 2.5 ms a mail); a generous bound for a busy machine."""
    mails = [mail_for(issued_document(issued_event()), "https://portal.example/", NOW) for _ in range(200)]
    started = time.process_time()
    for queued in mails:
        render_message(queued, SENDER)
    assert (time.process_time() - started) / len(mails) < 0.001


single_line = st.text().map(one_line)


@settings(max_examples=300, deadline=None)
@given(text=st.text(), html=st.text())
def test_any_body_reads_back_as_it_was_queued(text: str, html: str) -> None:
    _, data = render_message(_mail(text_body=text, html_body=html), SENDER)
    plain, alternative = _read(data).iter_parts()
    assert _lines(plain.get_content()) == _lines(text)
    assert _lines(alternative.get_content()) == _lines(html)
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


@settings(max_examples=300, deadline=None)
@given(subject=single_line, name=single_line)
def test_any_subject_and_name_read_back_as_they_were_queued(subject: str, name: str) -> None:
    _, data = render_message(_mail(subject=subject, recipient_name=name), SENDER)
    message = _read(data)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].addr_spec == "lena@example.org"
    # Python's own parser adds a space between encoded words inside a display name (against
    # RFC 2047 §6.2), so the name is read back as an RFC 2047 reader does.
    raw_name, addr = parseaddr(email.message_from_bytes(data)["To"])
    assert addr == "lena@example.org"
    assert _rfc2047(raw_name) == name


@given(text=st.text(min_size=1))
def test_encoded_words_are_at_most_75_long_and_whole_characters(text: str) -> None:
    words = encoded_words(text).split("\r\n ")
    assert all(len(word) <= 75 for word in words)
    assert "".join(str(make_header(decode_header(word))) for word in words) == text


def test_long_names_and_subjects_fold_into_lines_of_at_most_78() -> None:
    name = "Müller & Söhne Maschinen- und Anlagenbau GmbH & Co. KG, Niederlassung Süd-Württemberg"
    subject = "Neues Dokument im Bildungsportal: " + "Prüfungsbestätigung für Übungsfirma " * 4
    _, data = render_message(_mail(recipient_name=name, subject=one_line(subject)), SENDER)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    message = _read(data)
    assert message["Subject"] == one_line(subject)
    raw_name, addr = parseaddr(email.message_from_bytes(data)["To"])
    assert (_rfc2047(raw_name), addr) == (name, "lena@example.org")


def test_a_body_without_line_ends_is_folded_with_crlf_only() -> None:
    """Found by hypothesis: b2a_qp folded a one-line body with bare LFs (SMTP forbids them)."""
    _, data = render_message(_mail(text_body="ä" * 700, html_body="x" * 2000), SENDER)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    plain, alternative = _read(data).iter_parts()
    assert _lines(plain.get_content()) == _lines("ä" * 700)
    assert _lines(alternative.get_content()) == _lines("x" * 2000)

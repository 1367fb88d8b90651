"""What a new document's mail and notice say, and what they must never say."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from marshmallow import ValidationError

from chassis.contracts.documents import DocumentIssued
from chassis.events.catalogue import load_payload, validate_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from notifications.adapters.smtp import Sender, render_message
from notifications.domain.messages import compose_document_mail, mail_for, notice_for
from notifications.domain.model import (
    IssuedDocument,
    OutgoingMail,
    RecipientKind,
    idempotency_key,
    message_id_for,
)
from notifications.service_layer.handlers import issued_document

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PORTAL = "https://portal.example/"
SENDER = "Bildungsportal der IHK <noreply@bildungsportal.example>"


def _message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The mail as the SMTP server receives it, read back by the standard library."""
    _, data = render_message(mail, Sender(sender))
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def _document(payload: dict, event_id: str | None = None) -> IssuedDocument:
    """What the handler takes from a received event with ``payload``."""
    envelope = new_envelope(
        producer="documents", event_type=DocumentIssued.TYPE, subject="d", payload=payload
    )
    if event_id is not None:
        envelope = dataclasses.replace(envelope, id=event_id)
    return issued_document(IncomingEvent(envelope, load_payload(DocumentIssued.TYPE, 1, payload)))


def _everything(payload: dict, event_id: str | None = None) -> str:
    """All text a recipient could ever see: headers, plain text, HTML, and the notice."""
    document = _document(payload, event_id)
    message = _message(mail_for(document, PORTAL, NOW), SENDER)
    parts = [str(message[h]) for h in message]
    parts += [part.get_content() for part in message.walk() if not part.is_multipart()]
    notice = notice_for(document, NOW)
    assert notice is not None
    parts += [notice.title, notice.message]
    return "\n".join(parts)


@pytest.mark.parametrize("kind", ["apprentice", "company"])
def test_secrets_in_the_data_never_reach_mail_or_notice(issued_payload, kind: str) -> None:
    payload = issued_payload(kind)
    # Whatever a producer might add next to the contract's fields ...
    smuggled = {
        **payload,
        "activation_code": "AKT-7Q9Z-SECRET",
        "password": "Geheim-Passwort-123",
        "recipient": {**payload["recipient"], "activation_code": "AKT-7Q9Z-SECRET", "password": "pw-XYZ"},
    }
    # ... fails the contract, so the consumer dead-letters the event and nothing is written;
    with pytest.raises(ValidationError) as refused:
        load_payload(DocumentIssued.TYPE, 1, smuggled)
    assert {"activation_code", "password", "recipient"} <= set(refused.value.messages)
    # and what a mail and a notice say is built from the allowlisted facts only.
    text = _everything(payload)
    for secret in ("AKT-7Q9Z-SECRET", "Geheim-Passwort-123", "pw-XYZ"):
        assert secret not in text
    # The facts the recipient needs are there.
    assert "Eintragungsbestätigung 2026-000123" in text
    assert PORTAL in text


def test_apprentice_is_pointed_to_dokumente(issued_payload) -> None:
    content = compose_document_mail(_document(issued_payload("apprentice")), PORTAL)
    assert content.subject == "Neues Dokument im Bildungsportal: Eintragungsbestätigung 2026-000123"
    assert "Guten Tag Lena Lernwillig," in content.text
    assert "im Menü „Dokumente“" in content.text
    assert "Profil – Dokumente" not in content.text
    assert f"Zum Bildungsportal: {PORTAL}" in content.text


def test_company_is_pointed_to_profil_dokumente_and_contracts(issued_payload) -> None:
    content = compose_document_mail(_document(issued_payload("company")), PORTAL)
    assert "„Profil – Dokumente“" in content.text
    assert "„Ausbildungsverhältnisse“" in content.text
    assert "Muster Maschinenbau GmbH (Identnummer 4711001)" in content.text
    assert "im Menü „Dokumente“" not in content.text


def test_html_alternative_is_escaped_accessible_and_links_the_portal(issued_payload) -> None:
    payload = issued_payload("company", title='Bestätigung <script>alert("x")</script>')
    html = compose_document_mail(_document(payload), PORTAL).html
    assert '<html lang="de">' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert f'<a href="{PORTAL}"' in html
    assert "<title>Neues Dokument im Bildungsportal</title>" in html


def test_a_title_with_line_breaks_cannot_inject_headers(issued_payload) -> None:
    payload = issued_payload("apprentice", title="Eintragung\r\nBcc: victim@example.org")
    message = _message(mail_for(_document(payload), PORTAL, NOW), SENDER)
    assert message["Bcc"] is None
    assert "\n" not in str(message["Subject"])


def test_message_is_plain_text_with_an_html_alternative(issued_payload) -> None:
    event_id = str(uuid.uuid4())
    message = _message(mail_for(_document(issued_payload("apprentice"), event_id), PORTAL, NOW), SENDER)
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert message["To"].addresses[0].addr_spec == "lena@example.org"
    assert message["From"] == SENDER
    assert message["Message-ID"] == f"<{event_id}@bildungsportal>"
    assert message["Auto-Submitted"] == "auto-generated"


def test_idempotency_key_and_message_id_follow_the_event_id(issued_payload) -> None:
    event_id = str(uuid.uuid4())
    first = mail_for(_document(issued_payload(), event_id), PORTAL, NOW)
    again = mail_for(_document(issued_payload(), event_id), PORTAL, NOW)
    other = mail_for(_document(issued_payload()), PORTAL, NOW)
    assert first.idempotency_key == again.idempotency_key == idempotency_key(event_id) == event_id
    assert first.message_id == again.message_id == message_id_for(event_id)
    assert other.message_id != first.message_id


def test_notice_is_addressed_by_number_and_kind(issued_payload) -> None:
    apprentice = notice_for(_document(issued_payload("apprentice")), NOW)
    company = notice_for(_document(issued_payload("company")), NOW)
    assert apprentice is not None and company is not None
    assert (apprentice.recipient_kind, apprentice.apprentice_number, apprentice.company_number) == (
        RecipientKind.APPRENTICE,
        "20269999",
        None,
    )
    assert (company.recipient_kind, company.company_number, company.apprentice_number) == (
        RecipientKind.COMPANY,
        "4711001",
        None,
    )
    assert apprentice.title == "Neues Dokument: Eintragungsbestätigung 2026-000123"


def test_a_recipient_without_number_gets_no_notice(issued_payload) -> None:
    payload = issued_payload("apprentice", recipient={"apprentice_number": None})
    assert notice_for(_document(payload), NOW) is None


def test_test_payloads_follow_the_contract(issued_payload) -> None:
    # The fixtures above must stay valid documents.document.issued payloads.
    for kind in ("apprentice", "company"):
        validate_payload("documents.document.issued", 1, issued_payload(kind))

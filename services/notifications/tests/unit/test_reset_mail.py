"""The password-reset mail: German, with the link, its deadline in German time, and a way out."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from chassis.events.catalogue import validate_payload
from chassis.events.consumer import parse_message
from notifications.adapters.smtp import Sender, render_message
from notifications.domain.messages import (
    compose_password_reset_mail,
    german_deadline,
    password_reset_mail_for,
)
from notifications.domain.model import OutgoingMail, PasswordReset
from notifications.service_layer.handlers import password_reset

NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
SENDER = "Bildungsportal <noreply@portal.example>"


def _message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The mail as the SMTP server receives it, read back by the standard library."""
    _, data = render_message(mail, Sender(sender))
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


LINK = "https://portal.example/auth/password/reset/Einmal-Token_abc123"


def _reset(envelope) -> PasswordReset:
    return password_reset(parse_message(envelope.to_json()))


def test_fixture_is_a_valid_event(reset_envelope) -> None:
    envelope = reset_envelope()
    validate_payload(envelope.type, envelope.version, envelope.payload)


def test_deadline_is_in_german_local_time() -> None:
    assert german_deadline(datetime(2026, 11, 24, 14, 30, tzinfo=UTC)) == "24.11.2026, 15:30 Uhr"
    assert german_deadline(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == "01.07.2026, 10:05 Uhr"  # summer time


def test_text_has_link_deadline_and_the_ignore_line(reset_envelope) -> None:
    content = compose_password_reset_mail(_reset(reset_envelope()))
    assert content.subject == "Bildungsportal: Passwort zurücksetzen"
    assert content.text.startswith("Guten Tag Paula Probst,")
    assert f"    {LINK}\n" in content.text
    assert "gültig bis 24.11.2026, 15:30 Uhr" in content.text
    assert "können Sie diese E-Mail ignorieren" in content.text


def test_html_links_and_escapes(reset_envelope) -> None:
    content = compose_password_reset_mail(_reset(reset_envelope(name="Anna <b>Bold</b>")))
    assert f'<a href="{LINK}"' in content.html and '<html lang="de">' in content.html
    assert "gültig bis 24.11.2026, 15:30 Uhr" in content.html
    assert "<b>Bold</b>" not in content.html and "Anna &lt;b&gt;Bold&lt;/b&gt;" in content.html


def test_one_mail_per_event_with_a_stable_message_id(reset_envelope) -> None:
    envelope = reset_envelope()
    first = password_reset_mail_for(_reset(envelope), NOW)
    again = password_reset_mail_for(_reset(envelope), NOW)
    assert first.idempotency_key == again.idempotency_key == envelope.id
    message = _message(first, SENDER)
    assert message["Subject"] == "Bildungsportal: Passwort zurücksetzen"
    assert message["To"].addresses[0].addr_spec == "paula@example.org"
    assert LINK in message.get_body(preferencelist=("plain",)).get_content()

"""How SMTP failures are classified and described (without credentials)."""

from __future__ import annotations

import smtplib
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from notifications.adapters.smtp import SmtpConnection, describe_error, is_permanent
from notifications.config import MailSettings
from notifications.domain.model import OutgoingMail
from notifications.service_layer.delivery import MailDeliveryError


def test_permanent_and_transient_answers() -> None:
    assert is_permanent(smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}))
    assert not is_permanent(smtplib.SMTPRecipientsRefused({"a@example.org": (450, b"mailbox busy")}))
    assert is_permanent(smtplib.SMTPDataError(554, b"rejected"))
    assert not is_permanent(smtplib.SMTPDataError(451, b"try later"))
    assert not is_permanent(ConnectionRefusedError(111, "Connection refused"))
    assert not is_permanent(smtplib.SMTPServerDisconnected("gone"))
    # Bad credentials are our configuration's fault: retry, so fixing it saves the mails.
    assert not is_permanent(smtplib.SMTPAuthenticationError(535, b"bad credentials"))


def test_error_descriptions_keep_no_server_echo_of_credentials() -> None:
    text = describe_error(smtplib.SMTPAuthenticationError(535, b"5.7.8 AUTH PLAIN dXNlcgBzM2NyZXQ= failed"))
    assert text == "SMTP authentication failed (535)"
    assert describe_error(smtplib.SMTPDataError(554, b"spam")) == "SMTP 554: spam"
    assert (
        describe_error(smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"x")})) == "recipient refused (550)"
    )


def test_mail_settings_from_environment_and_password_not_in_repr() -> None:
    settings = MailSettings.from_extra(
        {
            "SMTP_HOST": "mail.example",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "1",
            "SMTP_USER": "portal",
            "SMTP_PASSWORD": "s3cret-pw",
            "MAIL_FROM": "Portal <p@example.org>",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("mail.example", 587, True)
    assert settings.smtp_user == "portal" and settings.smtp_password == "s3cret-pw"
    assert settings.mail_from == "Portal <p@example.org>"
    assert "s3cret-pw" not in repr(settings)


def test_mail_settings_of_the_sender() -> None:
    settings = MailSettings.from_extra(
        {"MAIL_BATCH_SIZE": "200", "MAIL_SESSIONS": "3", "SMTP_SESSION_IDLE": "5"}
    )
    assert (settings.batch_size, settings.sessions, settings.smtp_session_idle) == (200, 3, 5.0)
    defaults = MailSettings.from_extra({})
    assert (defaults.batch_size, defaults.sessions, defaults.smtp_session_idle) == (100, 2, 30.0)
    for name in ("MAIL_BATCH_SIZE", "MAIL_SESSIONS"):
        with pytest.raises(ValueError, match=f"NOTIFICATIONS_{name}"):
            MailSettings.from_extra({name: "0"})


def test_mail_settings_defaults() -> None:
    settings = MailSettings.from_extra({})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("127.0.0.1", 8025, False)
    assert settings.smtp_user is None and settings.smtp_password is None
    assert settings.mail_from == "Bildungsportal der IHK <noreply@bildungsportal.example>"


def test_a_message_that_cannot_be_built_fails_permanently_without_connecting() -> None:
    now = datetime.now(UTC)
    mail = OutgoingMail(
        id="1",
        idempotency_key="k",
        message_id="<k@bildungsportal>",
        recipient_name="X",
        recipient_email="x@example.org",
        subject="s",
        text_body="t",
        html_body="<p>t</p>",
        created_at=now,
        next_attempt_at=now,
    )
    # Port 9 (discard) on a host that does not exist: connecting would fail differently.
    connection = SmtpConnection(MailSettings(smtp_host="invalid.invalid", smtp_port=9))
    with pytest.raises(MailDeliveryError) as caught:
        connection.send(replace(mail, recipient_email="not an address <"))
    assert caught.value.permanent
    assert caught.value.detail.startswith("cannot build the message")

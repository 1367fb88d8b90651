"""identity's account events → mails over SMTP; a used or expired link leaves the stored mail.
On real PostgreSQL, RabbitMQ and SMTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from chassis.events.envelope import new_envelope
from chassis.testing.smtp import smtp_server
from notifications.domain.commands import VoidExpiredLinks
from notifications.domain.messages import VOID_LINK
from notifications.domain.model import MailStatus

CONFIRM = "https://portal.example/auth/register/confirm/Einmal-Token_xyz"
FORGOTTEN = "https://portal.example/auth/password/forgotten"


def identity_event(event_type: str, account_id: str, **payload: object):  # type: ignore[no-untyped-def]
    return new_envelope(
        producer="identity",
        event_type=event_type,
        subject=account_id,
        payload={"account_id": account_id, **payload},
    )


def person(email: str) -> dict[str, str]:
    return {"email": email, "name": "Rita Registriert"}


def test_registration_lockout_and_change_mails_and_the_link_leaving_the_stored_mail(
    pg_service, smtp_port, wait_until
) -> None:
    pg_service.start()
    account = str(uuid.uuid4())
    expires = datetime.now(UTC) + timedelta(hours=24)
    with smtp_server(port=smtp_port) as (_, _, received):
        pg_service.publish(
            identity_event(
                "identity.registration.requested",
                account,
                **person("rita@example.org"),
                confirm_url=CONFIRM,
                expires_at=expires.isoformat(),
            )
        )
        pg_service.publish(
            identity_event(
                "identity.account.locked_out",
                account,
                **person("rita@example.org"),
                locked_until=expires.isoformat(),
                password_forgotten_url=FORGOTTEN,
            )
        )
        pg_service.publish(
            identity_event(
                "identity.password.changed",
                account,
                **person("rita@example.org"),
                changed_at=datetime.now(UTC).isoformat(),
                how="reset",
                password_forgotten_url=FORGOTTEN,
            )
        )
        wait_until(lambda: len(received.messages) >= 3)
        subjects = {str(m["Subject"]) for m in received.messages}
        confirm_mail = next(m for m in received.messages if "Registrierung" in str(m["Subject"]))
        assert CONFIRM in confirm_mail.get_body(preferencelist=("plain",)).get_content()
        assert subjects == {
            "Bildungsportal: Registrierung bestätigen",
            "Bildungsportal: Ihr Zugang ist vorübergehend gesperrt",
            "Bildungsportal: Ihr Passwort wurde geändert",
        }
        # The link is used: the stored copy loses it (the delivered mail is the person's).
        pg_service.publish(
            identity_event(
                "identity.account_link.used", account, link="registration", expires_at=expires.isoformat()
            )
        )
        wait_until(lambda: any(m.link_voided_at is not None for m in pg_service.mails()))
    stored = next(m for m in pg_service.mails() if m.link_kind == "registration")
    assert CONFIRM not in stored.text_body and CONFIRM not in stored.html_body
    assert VOID_LINK in stored.text_body


def test_the_scheduled_scrub_removes_expired_links(pg_service, smtp_port, wait_until) -> None:
    pg_service.start()
    account = str(uuid.uuid4())
    with smtp_server(port=smtp_port) as (_, _, received):
        for minutes in (-1, 60):
            pg_service.publish(
                identity_event(
                    "identity.password_reset.requested",
                    account,
                    **person(f"r{minutes}@example.org"),
                    reset_url=f"https://portal.example/auth/password/reset/Token{minutes + 100}",
                    expires_at=(datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(),
                )
            )
        wait_until(lambda: len(received.messages) >= 2)
        # The sender holds its rows until it has recorded them sent; the scrub skips locked rows.
        wait_until(lambda: all(m.status is MailStatus.SENT for m in pg_service.mails()))
    assert pg_service.runtime.bus.handle(VoidExpiredLinks()) == 1
    by_address = {m.recipient_email: m for m in pg_service.mails()}
    assert "Token99" not in by_address["r-1@example.org"].text_body
    assert VOID_LINK in by_address["r-1@example.org"].html_body
    assert "Token160" in by_address["r60@example.org"].text_body
    assert pg_service.runtime.bus.handle(VoidExpiredLinks()) == 0
    assert {worker.name for worker in pg_service.runtime.workers()} >= {"mailer", "link-scrubber"}

"""The mails about a person's own access: registration, "you already have an account", lockout,
password changed, and the void link.

German and plain. Only the registration and reset mails carry a one-time link; every
other mail carries no secret at all. A stored mail loses its link once identity says it
was used (``identity.account_link.used``) or once it expired: the body is composed again
with the note "(Link nicht mehr gültig)" in its place (``void_link``), so that the
copies notifications keeps cannot set a password or confirm an account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from notifications.domain.messages import (
    PASSWORD_RESET_LINK,
    MailContent,
    compose_mail,
    compose_password_reset_mail,
    german_deadline,
    link_lines,
    one_line,
    pending_mail,
)
from notifications.domain.model import OutgoingMail, PasswordReset

REGISTRATION_LINK = "registration"
REGISTRATION_SUBJECT = "Bildungsportal: Registrierung bestätigen"
EXISTING_SUBJECT = "Bildungsportal: Sie haben bereits einen Zugang"
LOCKED_SUBJECT = "Bildungsportal: Ihr Zugang ist vorübergehend gesperrt"
CHANGED_SUBJECT = "Bildungsportal: Ihr Passwort wurde geändert"

HOW_CHANGED = {
    "reset": "über den Link aus der E-Mail „Passwort zurücksetzen“",
    "activation": "bei der Aktivierung Ihres Accounts",
    "registration": "bei Ihrer Registrierung",
}


@dataclass(frozen=True)
class AccountMailFacts:
    """The facts of one of identity's account events that a mail may use, and only those."""

    event_id: str
    account_id: str
    name: str
    email: str
    password_forgotten_url: str | None = None
    link: str | None = field(default=None, repr=False)  # a one-time secret
    until: datetime | None = None
    how: str | None = None


def _greeting(name: str) -> str:
    return f"Guten Tag {one_line(name)},"


def compose_registration_mail(name: str, confirm_url: str | None, expires_at: datetime) -> MailContent:
    return compose_mail(
        REGISTRATION_SUBJECT,
        _greeting(name),
        [
            "vielen Dank für Ihre Registrierung im Bildungsportal der IHK. Bitte bestätigen Sie sie über den "
            "folgenden Link; dabei geben Sie das Passwort ein, das Sie bei der Registrierung gewählt haben:"
        ],
        link_lines(confirm_url, "Registrierung bestätigen"),
        [
            f"Der Link ist gültig bis {german_deadline(expires_at)} und kann nur einmal verwendet werden. "
            "Danach können Sie auf der Seite „Registrieren“ einen neuen Link anfordern.",
            "Haben Sie sich nicht registriert, können Sie diese E-Mail ignorieren: Ohne Bestätigung wird "
            "kein Zugang angelegt.",
        ],
    )


def compose_existing_account_mail(facts: AccountMailFacts) -> MailContent:
    return compose_mail(
        EXISTING_SUBJECT,
        _greeting(facts.name),
        [
            "mit Ihrer E-Mail-Adresse wurde gerade eine Registrierung im Bildungsportal der IHK versucht. "
            "Sie haben aber bereits einen Zugang; ein zweiter wird nicht angelegt.",
            "Melden Sie sich bitte mit Ihren bisherigen Zugangsdaten an. Haben Sie Ihr Passwort vergessen, "
            f"vergeben Sie über „Passwort vergessen“ ein neues: {facts.password_forgotten_url}",
            "Haben Sie sich nicht registriert, können Sie diese E-Mail ignorieren: An Ihrem Zugang hat "
            "sich nichts geändert.",
        ],
        None,
        [],
    )


def compose_locked_out_mail(facts: AccountMailFacts) -> MailContent:
    assert facts.until is not None
    return compose_mail(
        LOCKED_SUBJECT,
        _greeting(facts.name),
        [
            "bei Ihrem Zugang zum Bildungsportal der IHK wurde mehrmals hintereinander ein falsches "
            "Passwort eingegeben. Zu Ihrem Schutz ist die Anmeldung mit Passwort deshalb bis "
            f"{german_deadline(facts.until)} gesperrt.",
            "Sie können die Sperre jederzeit selbst aufheben, indem Sie über „Passwort vergessen“ ein neues "
            f"Passwort vergeben: {facts.password_forgotten_url}",
            "Waren Sie das nicht, vergeben Sie bitte ebenfalls ein neues Passwort. Ihre IHK kann die Sperre "
            "auch aufheben.",
        ],
        None,
        [],
    )


def compose_password_changed_mail(facts: AccountMailFacts, changed_at: datetime) -> MailContent:
    how = HOW_CHANGED.get(facts.how or "", "")
    return compose_mail(
        CHANGED_SUBJECT,
        _greeting(facts.name),
        [
            f"das Passwort Ihres Zugangs zum Bildungsportal der IHK wurde am {german_deadline(changed_at)} "
            f"{how} geändert.".replace("  ", " "),
            "Waren Sie das, ist nichts weiter zu tun.",
            "Waren Sie das nicht, vergeben Sie bitte sofort über „Passwort vergessen“ ein neues Passwort "
            f"({facts.password_forgotten_url}) und informieren Sie Ihre IHK.",
        ],
        None,
        [],
    )


def _mail(facts: AccountMailFacts, content: MailContent, now: datetime) -> OutgoingMail:
    mail = pending_mail(facts.event_id, facts.name, facts.email, content, now)
    mail.account_id = facts.account_id
    return mail


def registration_mail_for(facts: AccountMailFacts, now: datetime) -> OutgoingMail:
    assert facts.until is not None
    mail = _mail(facts, compose_registration_mail(facts.name, facts.link, facts.until), now)
    mail.link_kind = REGISTRATION_LINK
    mail.link_expires_at = facts.until
    return mail


def existing_account_mail_for(facts: AccountMailFacts, now: datetime) -> OutgoingMail:
    return _mail(facts, compose_existing_account_mail(facts), now)


def locked_out_mail_for(facts: AccountMailFacts, now: datetime) -> OutgoingMail:
    return _mail(facts, compose_locked_out_mail(facts), now)


def password_changed_mail_for(facts: AccountMailFacts, changed_at: datetime, now: datetime) -> OutgoingMail:
    return _mail(facts, compose_password_changed_mail(facts, changed_at), now)


def void_link(mail: OutgoingMail, now: datetime) -> bool:
    """Replace the mail's one-time link by the German note, composing the body again without it.

    True if it had a link to remove. The subject, recipient and Message-ID stay.
    """
    if mail.link_kind is None or mail.link_voided_at is not None or mail.link_expires_at is None:
        return False
    if mail.link_kind == REGISTRATION_LINK:
        content = compose_registration_mail(mail.recipient_name, None, mail.link_expires_at)
    elif mail.link_kind == PASSWORD_RESET_LINK:
        content = compose_password_reset_mail(
            PasswordReset(
                event_id=mail.idempotency_key,
                name=mail.recipient_name,
                email=mail.recipient_email,
                reset_url=None,
                expires_at=mail.link_expires_at,
            )
        )
    else:
        return False
    mail.text_body = content.text
    mail.html_body = content.html
    mail.link_voided_at = now
    return True

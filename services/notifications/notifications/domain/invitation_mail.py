"""The invitation mail: a company created an account for someone, who sets its password through a link.

Like the reset mail, its whole point is a one-time link; nothing else secret goes in it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

from notifications.domain.messages import (
    AUTOMATIC,
    SIGNATURE,
    MailContent,
    _html_page,
    german_deadline,
    one_line,
    pending_mail,
)
from notifications.domain.model import OutgoingMail

INVITATION_SUBJECT = "Bildungsportal: Ihr Zugang wurde eingerichtet"


@dataclass(frozen=True)
class Invitation:
    """The facts of ``identity.account.invited`` the mail may use (only invitations with a link)."""

    event_id: str
    name: str
    email: str
    invite_url: str = field(repr=False)  # one-time link: into the mail and nowhere else
    expires_at: datetime
    company_number: str | None


def compose_invitation_mail(invitation: Invitation) -> MailContent:
    greeting = f"Guten Tag {one_line(invitation.name)},"
    intro = "Ihr Ausbildungsbetrieb hat für Sie einen Account im Bildungsportal der IHK erstellt."
    action = "Über den folgenden Link wählen Sie Ihr Passwort und richten Ihren Zugang ein:"
    validity = f"Der Link ist gültig bis {german_deadline(invitation.expires_at)} und kann nur einmal verwendet werden."
    login = "Danach melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an."
    unexpected = (
        "Erwarten Sie diese E-Mail nicht, können Sie sie ignorieren: ohne Passwort kann niemand "
        "den Account nutzen."
    )
    text = "\n".join(
        [
            greeting,
            "",
            intro,
            action,
            "",
            f"    {invitation.invite_url}",
            "",
            validity,
            login,
            "",
            unexpected,
            "",
            "Freundliche Grüße",
            SIGNATURE,
            "",
            "-- ",
            AUTOMATIC,
            "",
        ]
    )
    e = html.escape
    url = invitation.invite_url
    paragraphs = "\n".join(
        [
            f"<p>{e(greeting)}</p>",
            f"<p>{e(intro)}</p>",
            f'<p><a href="{e(url, quote=True)}" style="color: #004a99;">Zugang einrichten</a></p>',
            f"<p>Falls der Link nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:<br>{e(url)}</p>",
            f"<p>{e(validity)} {e(login)}</p>",
            f"<p>{e(unexpected)}</p>",
        ]
    )
    return MailContent(subject=INVITATION_SUBJECT, text=text, html=_html_page(INVITATION_SUBJECT, paragraphs))


def invitation_mail_for(invitation: Invitation, now: datetime) -> OutgoingMail:
    """The pending mail with the invitation link."""
    content = compose_invitation_mail(invitation)
    return pending_mail(invitation.event_id, invitation.name, invitation.email, content, now)

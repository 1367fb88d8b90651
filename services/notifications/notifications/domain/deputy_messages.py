"""The mail to a deputy once the chamber approved their deputyship ("Profil – Vertretung")."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from notifications.domain.messages import (
    CLOSING,
    NO_SECRETS,
    MailContent,
    _html_page,
    one_line,
    pending_mail,
)
from notifications.domain.model import OutgoingMail

DEPUTY_SUBJECT = "Bildungsportal: Sie wurden als Vertreter/in bestätigt"


@dataclass(frozen=True)
class ApprovedDeputyship:
    """The facts of ``identity.deputyship.approved`` the mail may use."""

    event_id: str
    deputy_name: str
    deputy_email: str
    represented_name: str
    deputy_has_account: bool


def compose_deputy_mail(approved: ApprovedDeputyship, portal_url: str) -> MailContent:
    greeting = f"Guten Tag {one_line(approved.deputy_name)},"
    intro = (
        f"die IHK hat bestätigt, dass Sie {one_line(approved.represented_name)} im Bildungsportal vertreten."
    )
    if approved.deputy_has_account:
        how = (
            "Melden Sie sich wie gewohnt an. Unter „Profil – Berechtigungen“ wechseln Sie mit "
            "„Zum Programm“ in die Vertretung und wieder zurück."
        )
    else:
        how = (
            "Sie haben noch keinen Zugang zum Bildungsportal. Sie erhalten dazu eine gesonderte "
            "Einladung „Account erstellen“; danach wechseln Sie unter „Profil – Berechtigungen“ "
            "mit „Zum Programm“ in die Vertretung."
        )
    text = "\n".join(
        [
            greeting,
            "",
            intro,
            how,
            "",
            f"    {portal_url}",
            "",
            NO_SECRETS,
            "",
            *CLOSING,
        ]
    )
    e = html.escape
    paragraphs = "\n".join(
        [
            f"<p>{e(greeting)}</p>",
            f"<p>{e(intro)}</p>",
            f"<p>{e(how)}</p>",
            f'<p><a href="{e(portal_url, quote=True)}" style="color: #004a99;">Zum Bildungsportal</a></p>',
            f"<p>{e(NO_SECRETS)}</p>",
        ]
    )
    return MailContent(subject=DEPUTY_SUBJECT, text=text, html=_html_page(DEPUTY_SUBJECT, paragraphs))


def deputy_mail_for(approved: ApprovedDeputyship, portal_url: str, now: datetime) -> OutgoingMail:
    content = compose_deputy_mail(approved, portal_url)
    return pending_mail(approved.event_id, approved.deputy_name, approved.deputy_email, content, now)

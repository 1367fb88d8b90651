"""What we tell people: the mail and in-portal notice about a new document, and the reset mail.

German and friendly. Document mails are deliberately limited to the document's
title, the recipient's name and number, and the portal's address: never a
password, activation code or other access data (DESIGN §2, ASVS V2/V7). The one
exception is the password-reset mail, whose whole point is its one-time link.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from notifications.domain.model import (
    IssuedDocument,
    MailStatus,
    Notice,
    OutgoingMail,
    PasswordReset,
    RecipientKind,
    idempotency_key,
    message_id_for,
)

SUBJECT = "Neues Dokument im Bildungsportal"
RESET_SUBJECT = "Bildungsportal: Passwort zurücksetzen"
GERMAN_TIME = ZoneInfo("Europe/Berlin")
SIGNATURE = "Ihr Bildungsportal der IHK"
AUTOMATIC = "Diese E-Mail wurde automatisch versandt. Bitte antworten Sie nicht darauf."
# The end of every plain-text mail: greeting, signature, and the note that it was sent automatically.
CLOSING = ("Freundliche Grüße", SIGNATURE, "", "-- ", AUTOMATIC, "")
NO_SECRETS = "Aus Sicherheitsgründen enthalten unsere E-Mails niemals Passwörter oder Aktivierungscodes."

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class MailContent:
    subject: str
    text: str
    html: str


def one_line(value: str) -> str:
    """Collapse line breaks and runs of spaces (titles end up in a header and a sentence)."""
    return _WHITESPACE.sub(" ", value).strip()


def where_to_find(kind: RecipientKind) -> str:
    if kind is RecipientKind.APPRENTICE:
        return "Sie finden es nach der Anmeldung im Menü „Dokumente“."
    return (
        "Sie finden es nach der Anmeldung unter „Profil – Dokumente“ "
        "oder beim jeweiligen Ausbildungsverhältnis unter „Ausbildungsverhältnisse“."
    )


def where_in_portal(kind: RecipientKind) -> str:
    """The same directions for someone already logged in (the in-portal notice)."""
    if kind is RecipientKind.APPRENTICE:
        return "Sie finden es im Menü „Dokumente“."
    return "Sie finden es unter „Profil – Dokumente“ und beim Ausbildungsverhältnis unter „Ausbildungsverhältnisse“."


def _greeting(document: IssuedDocument) -> str:
    if document.recipient.kind is RecipientKind.APPRENTICE:
        return f"Guten Tag {one_line(document.recipient.name)},"
    return "Guten Tag,"


def _intro(document: IssuedDocument) -> str:
    recipient = document.recipient
    if recipient.kind is RecipientKind.COMPANY:
        return (
            f"im Bildungsportal der IHK liegt ein neues Dokument für {one_line(recipient.name)} "
            f"(Identnummer {recipient.company_number}) bereit:"
        )
    return "im Bildungsportal der IHK liegt ein neues Dokument für Sie bereit:"


def _html_page(title: str, paragraphs: str) -> str:
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
</head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a;">
<main>
<h1 style="font-size: 20px;">{e(title)}</h1>
{paragraphs}
<p>Freundliche Grüße<br>{e(SIGNATURE)}</p>
<hr>
<p style="font-size: 14px; color: #4d4d4d;">{e(AUTOMATIC)}</p>
</main>
</body>
</html>
"""


def compose_document_mail(document: IssuedDocument, portal_url: str) -> MailContent:
    title = one_line(document.title)
    where = where_to_find(document.recipient.kind)
    text = "\n".join(
        [
            _greeting(document),
            "",
            _intro(document),
            "",
            f"    {title}",
            "",
            where,
            "",
            f"Zum Bildungsportal: {portal_url}",
            "",
            NO_SECRETS,
            "",
            *CLOSING,
        ]
    )
    e = html.escape
    paragraphs = "\n".join(
        [
            f"<p>{e(_greeting(document))}</p>",
            f"<p>{e(_intro(document))}</p>",
            f'<p style="font-size: 18px;"><strong>{e(title)}</strong></p>',
            f"<p>{e(where)}</p>",
            f'<p><a href="{e(portal_url, quote=True)}" style="color: #004a99;">Zum Bildungsportal</a> '
            f"({e(portal_url)})</p>",
            f"<p>{e(NO_SECRETS)}</p>",
        ]
    )
    body = _html_page(SUBJECT, paragraphs)
    return MailContent(subject=f"{SUBJECT}: {title}", text=text, html=body)


def german_deadline(moment: datetime) -> str:
    """``24.11.2026, 15:30 Uhr`` in German local time, whatever zone the event used."""
    return moment.astimezone(GERMAN_TIME).strftime("%d.%m.%Y, %H:%M Uhr")


# What a stored mail shows instead of a one-time link once it is used or expired.
VOID_LINK = "(Link nicht mehr gültig)"


def link_lines(url: str | None, label: str) -> tuple[list[str], list[str]]:
    """The link as text lines and HTML paragraphs; a void link (None) as the German note."""
    e = html.escape
    if url is None:
        return [f"    {VOID_LINK}"], [f"<p><strong>{e(VOID_LINK)}</strong></p>"]
    return (
        [f"    {url}"],
        [
            f'<p><a href="{e(url, quote=True)}" style="color: #004a99;">{e(label)}</a></p>',
            f"<p>Falls der Link nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:<br>{e(url)}</p>",
        ],
    )


def compose_mail(
    subject: str, greeting: str, before: list[str], link: tuple[list[str], list[str]] | None, after: list[str]
) -> MailContent:
    """A German mail of plain paragraphs around an optional link: text and HTML alike."""
    e = html.escape
    text_lines = [greeting, ""]
    html_parts = [f"<p>{e(greeting)}</p>"]
    for paragraph in before:
        text_lines += [paragraph, ""]
        html_parts.append(f"<p>{e(paragraph)}</p>")
    if link is not None:
        text_lines += [*link[0], ""]
        html_parts += link[1]
    for paragraph in after:
        text_lines += [paragraph, ""]
        html_parts.append(f"<p>{e(paragraph)}</p>")
    text_lines += CLOSING
    return MailContent(
        subject=subject, text="\n".join(text_lines), html=_html_page(subject, "\n".join(html_parts))
    )


def compose_password_reset_mail(reset: PasswordReset) -> MailContent:
    validity = (
        f"Der Link ist gültig bis {german_deadline(reset.expires_at)} und kann nur einmal verwendet werden."
    )
    ignore = (
        "Haben Sie kein neues Passwort angefordert, können Sie diese E-Mail ignorieren: "
        "Ihr bisheriges Passwort bleibt gültig."
    )
    return compose_mail(
        RESET_SUBJECT,
        f"Guten Tag {one_line(reset.name)},",
        [
            "für Ihren Account im Bildungsportal der IHK wurde ein neues Passwort angefordert. "
            "Über den folgenden Link vergeben Sie ein neues Passwort:"
        ],
        link_lines(reset.reset_url, "Neues Passwort vergeben"),
        [validity, ignore],
    )


PASSWORD_RESET_LINK = "password_reset"  # noqa: S105 - a kind of link, not a secret


def pending_mail(event_id: str, name: str, email: str, content: MailContent, now: datetime) -> OutgoingMail:
    """A mail waiting for the sender, keyed by its event so that it exists once."""
    key = idempotency_key(event_id)
    return OutgoingMail(
        id=str(uuid.uuid4()),
        idempotency_key=key,
        message_id=message_id_for(key),
        recipient_name=one_line(name),
        recipient_email=email,
        subject=content.subject,
        text_body=content.text,
        html_body=content.html,
        created_at=now,
        next_attempt_at=now,
        status=MailStatus.PENDING,
    )


def mail_for(document: IssuedDocument, portal_url: str, now: datetime) -> OutgoingMail:
    """The pending mail for a new document."""
    content = compose_document_mail(document, portal_url)
    return pending_mail(document.event_id, document.recipient.name, document.recipient.email, content, now)


def password_reset_mail_for(reset: PasswordReset, now: datetime) -> OutgoingMail:
    """The pending mail with the reset link (which leaves the stored copy once void)."""
    mail = pending_mail(reset.event_id, reset.name, reset.email, compose_password_reset_mail(reset), now)
    mail.account_id = reset.account_id
    mail.link_kind = PASSWORD_RESET_LINK
    mail.link_expires_at = reset.expires_at
    return mail


def notice_for(document: IssuedDocument, now: datetime) -> Notice | None:
    """The in-portal notice, or None when the recipient has no number to address it by."""
    recipient = document.recipient
    if not recipient.number:
        return None
    title = one_line(document.title)
    return Notice(
        id=str(uuid.uuid4()),
        source_event_id=document.event_id,
        document_id=document.document_id,
        recipient_kind=recipient.kind,
        company_number=recipient.company_number if recipient.kind is RecipientKind.COMPANY else None,
        apprentice_number=recipient.apprentice_number if recipient.kind is RecipientKind.APPRENTICE else None,
        title=f"Neues Dokument: {title}",
        message=f"„{title}“ liegt für Sie bereit. {where_in_portal(recipient.kind)}",
        created_at=now,
    )

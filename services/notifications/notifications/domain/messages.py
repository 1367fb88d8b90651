"""What we tell a recipient about a new document: the mail text and the in-portal notice.

German, friendly, and deliberately limited to the document's title, the
recipient's name and number, and the portal's address: never a password,
activation code or other access data (DESIGN §2, ASVS V2/V7).
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from notifications.domain.model import (
    DocumentIssued,
    MailStatus,
    Notice,
    OutgoingMail,
    RecipientKind,
    idempotency_key,
    message_id_for,
)

SUBJECT = "Neues Dokument im Bildungsportal"
SIGNATURE = "Ihr Bildungsportal der IHK"
AUTOMATIC = "Diese E-Mail wurde automatisch versandt. Bitte antworten Sie nicht darauf."
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


def _greeting(document: DocumentIssued) -> str:
    if document.recipient.kind is RecipientKind.APPRENTICE:
        return f"Guten Tag {one_line(document.recipient.name)},"
    return "Guten Tag,"


def _intro(document: DocumentIssued) -> str:
    recipient = document.recipient
    if recipient.kind is RecipientKind.COMPANY:
        return (
            f"im Bildungsportal der IHK liegt ein neues Dokument für {one_line(recipient.name)} "
            f"(Identnummer {recipient.company_number}) bereit:"
        )
    return "im Bildungsportal der IHK liegt ein neues Dokument für Sie bereit:"


def compose_document_mail(document: DocumentIssued, portal_url: str) -> MailContent:
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
            "Freundliche Grüße",
            SIGNATURE,
            "",
            "-- ",
            AUTOMATIC,
            "",
        ]
    )
    e = html.escape
    body = f"""<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(SUBJECT)}</title>
</head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a;">
<main>
<h1 style="font-size: 20px;">{e(SUBJECT)}</h1>
<p>{e(_greeting(document))}</p>
<p>{e(_intro(document))}</p>
<p style="font-size: 18px;"><strong>{e(title)}</strong></p>
<p>{e(where)}</p>
<p><a href="{e(portal_url, quote=True)}" style="color: #004a99;">Zum Bildungsportal</a> ({e(portal_url)})</p>
<p>{e(NO_SECRETS)}</p>
<p>Freundliche Grüße<br>{e(SIGNATURE)}</p>
<hr>
<p style="font-size: 14px; color: #4d4d4d;">{e(AUTOMATIC)}</p>
</main>
</body>
</html>
"""
    return MailContent(subject=f"{SUBJECT}: {title}", text=text, html=body)


def mail_for(document: DocumentIssued, portal_url: str, now: datetime) -> OutgoingMail:
    """The pending mail for a new document, keyed by the event so it exists once."""
    content = compose_document_mail(document, portal_url)
    key = idempotency_key(document.event_id)
    return OutgoingMail(
        id=str(uuid.uuid4()),
        idempotency_key=key,
        message_id=message_id_for(key),
        recipient_name=one_line(document.recipient.name),
        recipient_email=document.recipient.email,
        subject=content.subject,
        text_body=content.text,
        html_body=content.html,
        created_at=now,
        next_attempt_at=now,
        status=MailStatus.PENDING,
    )


def notice_for(document: DocumentIssued, now: datetime) -> Notice | None:
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

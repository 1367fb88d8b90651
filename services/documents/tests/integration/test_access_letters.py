"""Access letters (Anschreiben) on a real PostgreSQL: issued from identity's code event, sealed,
rendered on the first opening as a tagged PDF with the code, for chamber staff only; a newer
letter supersedes the earlier; "gedruckt" takes it off the list."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from chassis.contracts.identity import AccessCodeIssued
from chassis.events.catalogue import load_payload, outgoing_envelope
from chassis.events.incoming import IncomingEvent
from documents.adapters import orm

CODE = "ABCD-EFGH-JKMN"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def deliver(service, number: str = "4712001", code: str = CODE, reason: str = "registered") -> None:  # type: ignore[no-untyped-def]
    event = AccessCodeIssued(
        kind="company",
        number=number,
        name="Neue Technik GmbH",
        street="Hauptstraße 1",
        postal_code="34117",
        city="Kassel",
        activation_code=code,
        expires_at=NOW + timedelta(days=90),
        issued_at=NOW,
        reason=reason,
    )
    envelope = outgoing_envelope(event, producer="identity", subject=number)
    typed = load_payload(envelope.type, envelope.version, envelope.payload)
    assert service.runtime.bus.handle_event(IncomingEvent(envelope, typed)) == "handled"  # type: ignore[arg-type]


@pytest.fixture
def as_(test_issuer):  # type: ignore[no-untyped-def]
    claims: dict[str, dict[str, Any]] = {
        "chamber": {"roles": ["chamber_clerk"]},
        "company_admin": {"company_roles": {"4712001": ["admin"]}},
        "company_manager": {"company_roles": {"4712001": ["manager"]}},
        "apprentice": {"roles": ["apprentice"], "apprentice_number": "20260001"},
    }
    return lambda who: test_issuer.header(str(uuid.uuid4()), **claims[who])


def test_the_chamber_prints_the_letter_with_the_code(service, client, as_) -> None:  # type: ignore[no-untyped-def]
    deliver(service)
    [row] = service.rows(orm.access_letters)
    assert row.content is None and CODE.encode() not in row.sealed_data  # sealed, not rendered yet
    listed = client.get("/access-letters", headers=as_("chamber"))
    assert listed.status_code == 200
    [letter] = listed.get_json()
    assert letter["number"] == "4712001" and letter["printed_at"] is None
    pdf = client.get(f"/access-letters/{letter['id']}/content", headers=as_("chamber"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    root = reader.trailer["/Root"]  # tagged PDF/UA, German, titled
    assert root["/MarkInfo"]["/Marked"].value is True and root["/Lang"] == "de" and "/StructTreeRoot" in root
    text = "".join(page.extract_text() for page in reader.pages)
    assert CODE in text and "4712001" in text and "Zugang freischalten" in text
    again = client.get(f"/access-letters/{letter['id']}/content", headers=as_("chamber"))
    assert again.data == pdf.data  # the bytes stored at the first opening
    printed = client.post(f"/access-letters/{letter['id']}/printed", headers=as_("chamber"))
    assert printed.status_code == 200 and printed.get_json()["printed_at"] is not None
    assert client.get("/access-letters", headers=as_("chamber")).get_json() == []
    everything = client.get("/access-letters?to_print=false", headers=as_("chamber")).get_json()
    assert len(everything) == 1


def test_the_letter_text_names_number_code_and_the_way_in(service) -> None:  # type: ignore[no-untyped-def]
    from documents.adapters.pdf import WeasyPrintRenderer
    from documents.domain.model import DocumentContent

    deliver(service)
    [row] = service.rows(orm.access_letters)
    content = DocumentContent.from_canonical(
        service.runtime.reading.seals.open(row.sealed_data), sha256=row.sealed_sha256
    )
    html = WeasyPrintRenderer().html_for(content)
    assert '<html lang="de">' in html
    for text in (
        "Identnummer",
        "4712001",
        CODE,
        "Zugang freischalten",
        "https://portal.example/zugang-freischalten",
    ):
        assert text in html


def test_a_newer_letter_supersedes_the_earlier(service, client, as_) -> None:  # type: ignore[no-untyped-def]
    deliver(service)
    deliver(service, code="PQRS-TUVW-XYZ2", reason="requested")
    [letter] = client.get("/access-letters", headers=as_("chamber")).get_json()
    assert letter["reason"] == "requested"


@pytest.mark.parametrize("who", ["company_admin", "company_manager", "apprentice"])
def test_nobody_but_the_chamber_sees_letters(service, client, as_, who) -> None:  # type: ignore[no-untyped-def]
    deliver(service)
    [row] = service.rows(orm.access_letters)
    assert client.get("/access-letters", headers=as_(who)).status_code == 404
    assert client.get(f"/access-letters/{row.id}/content", headers=as_(who)).status_code == 404
    assert client.post(f"/access-letters/{row.id}/printed", headers=as_(who)).status_code == 404
    assert client.get("/access-letters").status_code == 401
    # Nor do letters appear among the company's documents.
    assert client.get("/documents", headers=as_(who)).get_json()["items"] == []

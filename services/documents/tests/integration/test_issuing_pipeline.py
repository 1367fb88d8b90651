"""Both events through the real consumer (RabbitMQ → inbox → PostgreSQL), in either order.

Checks the sealed documents, the documents.document.issued events in the outbox, the PDFs
rendered on the first opening through the API (with a real PDF parser) and answered byte
for byte the same afterwards, idempotency under redelivery, the cutoff, and that the
activation code is stored nowhere in plain text but in the apprentice's PDF once opened.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from chassis.events.catalogue import validate_payload
from documents.adapters import orm
from documents.adapters.vault import SEALED_CONTENT, FernetVault
from documents.domain.model import DocumentContent

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
ISSUED = "documents.document.issued"


def issued_events(service) -> list[dict]:
    rows = service.rows(orm.outbox, orm.outbox.c.event_type == ISSUED)
    return [json.loads(row.body) for row in rows]


def documents_of(service, contract_id: str) -> dict[str, sa.Row]:
    rows = service.rows(orm.documents, orm.documents.c.contract_id == uuid.UUID(contract_id))
    return {row.recipient_kind: row for row in rows}


def assert_code_stored_only_in(running, code: str, allowed: set[tuple[str, str, str]]) -> None:
    """``code`` is in no column of any row but (table, column, recipient_kind) in ``allowed``."""
    for table in orm.metadata.sorted_tables:
        for row in running.rows(table):
            for column, value in row._mapping.items():
                if (table.name, column, getattr(row, "recipient_kind", "")) in allowed:
                    continue
                haystack = value if isinstance(value, bytes) else str(value).encode()
                assert code.encode() not in haystack, f"{table.name}.{column}"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("order", ["contract-first", "access-first"])
def test_both_events_issue_two_accessible_pdfs(
    running, client, test_issuer, wait, contract_payload, prepared_payload, order, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    envelopes = [running.event(CONTRACT, contract), running.event(PREPARED, prepared)]
    if order == "access-first":
        envelopes.reverse()
    for envelope in envelopes:
        running.publish(envelope)
        # Wait for each, so the order really is the order of handling.
        wait(lambda envelope=envelope: running.handled(envelope.id), message=f"{envelope.type} handled")
    wait(lambda: len(documents_of(running, contract["contract_id"])) == 2, message="two documents")

    docs = documents_of(running, contract["contract_id"])
    company, apprentice = docs["company"], docs["apprentice"]
    assert company.company_number == "4711001" and company.apprentice_number is None
    assert apprentice.apprentice_number == "20269876"
    assert company.kind == apprentice.kind == "registration_confirmation"
    assert company.title == "Eintragungsbestätigung 2026-000123"
    assert company.first_opened_at is None and apprentice.first_opened_at is None

    # Issued sealed, rendered later: no PDF yet; the content sealed with the service's secret.
    seals = FernetVault("integration-test-secret", purpose=SEALED_CONTENT)
    for row in (company, apprentice):
        assert row.content is None and row.sha256 is None and row.size is None and row.rendered_at is None
        assert (row.template, row.template_version) == ("registration_confirmation", 1)
        content = DocumentContent.from_canonical(seals.open(row.sealed_data), sha256=row.sealed_sha256)
        assert content.fields["recipient_kind"] == row.recipient_kind
        assert content.fields["title"] == row.title
    code = prepared["activation_code"]
    # Until the PDF is rendered the code is nowhere in plain text (sealed_data is encrypted).
    assert_code_stored_only_in(running, code, allowed=set())

    # The outbox holds one valid documents.document.issued per document.
    events = issued_events(running)
    assert len(events) == 2
    by_kind = {}
    for event in events:
        data = validate_payload(event["type"], event["version"], event["payload"])
        by_kind[data["recipient"]["kind"]] = data
        assert event["producer"] == "documents"
    assert by_kind["company"]["document_id"] == company.id
    assert by_kind["company"]["recipient"]["email"] == "ausbildung@muster-maschinenbau.example"
    assert by_kind["company"]["recipient"]["name"] == "Muster Maschinenbau GmbH"
    assert by_kind["apprentice"]["document_id"] == apprentice.id
    assert by_kind["apprentice"]["recipient"]["name"] == "Jonas Jüngling"
    assert by_kind["apprentice"]["recipient"]["email"] == "jonas@azubi.example"
    assert str(by_kind["apprentice"]["contract_id"]) == contract["contract_id"]

    # The recipients open them: rendered now, stored, and the same bytes at every opening.
    headers = {
        "company": test_issuer.header(company_roles={"4711001": ["admin"]}),
        "apprentice": test_issuer.header(roles=["apprentice"], apprentice_number="20269876"),
    }
    pdfs = {}
    for row in (company, apprentice):
        first = client.get(f"/documents/{row.id}/content", headers=headers[row.recipient_kind])
        again = client.get(f"/documents/{row.id}/content", headers=headers[row.recipient_kind])
        assert first.status_code == again.status_code == 200
        assert first.data == again.data
        (stored,) = running.rows(orm.documents, orm.documents.c.id == row.id)
        assert stored.content == first.data and stored.rendered_at is not None
        assert stored.sha256 == hashlib.sha256(first.data).hexdigest() and stored.size == len(first.data)
        assert first.headers["ETag"] == again.headers["ETag"] == f'"{stored.sha256}"'
        pdfs[row.recipient_kind] = first.data

    # Real PDFs with the register data; only the apprentice's has the access data.
    for kind, pdf in pdfs.items():
        assert pdf.startswith(b"%PDF-")
        text = pdf_text(pdf)
        for expected in (
            "Eintragungsbestätigung",
            "2026-000123",
            "03.08.2026",
            "Muster Maschinenbau GmbH",
            "4711001",
            "Jonas Jüngling",
            "14.03.2009",
            "Industriekaufmann/Industriekauffrau",
            "01.09.2026",
            "31.08.2029",
        ):
            assert expected in text, (kind, expected)
    apprentice_text = pdf_text(pdfs["apprentice"])
    assert "Ihre Zugangsdaten zum Bildungsportal" in apprentice_text
    assert "20269876" in apprentice_text and code in apprentice_text
    assert "https://portal.example/auth/activate" in apprentice_text
    assert code not in pdf_text(pdfs["company"])

    # Tagged PDF/UA: marked structure, German, a title.
    for row in (company, apprentice):
        reader = PdfReader(io.BytesIO(pdfs[row.recipient_kind]))
        root = reader.trailer["/Root"]
        assert root["/MarkInfo"]["/Marked"].value is True
        assert root["/Lang"] == "de"
        assert "/StructTreeRoot" in root
        assert reader.metadata.title == row.title

    # The activation code is nowhere else: no other column, no event, no log line.
    assert running.count(orm.pending_access) == 0
    assert_code_stored_only_in(running, code, allowed={("documents", "content", "apprentice")})
    assert code not in caplog.text


def test_redelivery_and_repeated_events_issue_nothing_twice(
    running, wait, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    first = [running.event(CONTRACT, contract), running.event(PREPARED, prepared)]
    for envelope in first:
        running.publish(envelope)
    for envelope in first:
        wait(lambda envelope=envelope: running.handled(envelope.id))
    # The same messages again (broker redelivery), and the same facts under new event ids.
    again = [*first, running.event(CONTRACT, contract), running.event(PREPARED, prepared)]
    for envelope in again:
        running.publish(envelope)
    for envelope in again[2:]:
        wait(lambda envelope=envelope: running.handled(envelope.id))
    wait(lambda: running.count(orm.inbox) == 4)

    assert len(documents_of(running, contract["contract_id"])) == 2
    assert len(issued_events(running)) == 2


def test_contract_before_the_cutoff_gets_no_confirmation(
    running, wait, contract_payload, prepared_payload
) -> None:
    contract = contract_payload(registered_on="2017-11-30")
    envelopes = [
        running.event(PREPARED, prepared_payload(contract["contract_id"])),
        running.event(CONTRACT, contract),
    ]
    for envelope in envelopes:
        running.publish(envelope)
        wait(lambda envelope=envelope: running.handled(envelope.id))

    assert (
        running.count(orm.contracts, orm.contracts.c.contract_id == uuid.UUID(contract["contract_id"])) == 1
    )
    assert running.count(orm.documents) == 0
    assert running.count(orm.pending_access) == 0
    assert issued_events(running) == []


def test_issued_events_leave_through_the_relay(running, wait, contract_payload) -> None:
    running.publish(running.event(CONTRACT, contract_payload()))
    wait(lambda: running.count(orm.outbox) == 1, message="issued event in the outbox")
    wait(lambda: running.count(orm.outbox, orm.outbox.c.sent_at.is_(None)) == 0, message="relay published it")

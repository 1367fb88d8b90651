"""The REST API on a real PostgreSQL: access matrix, the PDF download, and the read receipt."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import Any

import pytest

from chassis.events.catalogue import load_payload, validate_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from documents.adapters import orm
from documents.bootstrap import bootstrap, seed_demo
from documents.entrypoints.app import build_app

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
OPENED = "documents.document.opened"

APPRENTICE_SUB = str(uuid.uuid4())
CLAIMS: dict[str, dict[str, Any]] = {
    "apprentice": {"roles": ["apprentice"], "apprentice_number": "20269876"},
    "other_apprentice": {"roles": ["apprentice"], "apprentice_number": "20260001"},
    "company_admin": {"company_roles": {"4711001": ["admin"]}},
    "company_manager": {"company_roles": {"4711001": ["manager"]}},
    "company_trainer": {"company_roles": {"4711001": ["trainer"]}},
    "other_company_admin": {"company_roles": {"9999999": ["admin"]}},
    "chamber": {"roles": ["chamber_clerk"]},
}


def deliver(service, event_type: str, payload: dict[str, Any]) -> None:
    """Run the service's real handler through its message bus (the broker path is tested elsewhere)."""
    envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
    assert (
        service.runtime.bus.handle_event(IncomingEvent(envelope, load_payload(event_type, 1, payload)))
        == "handled"
    )


@pytest.fixture
def issued(service, contract_payload, prepared_payload) -> dict[str, str]:
    """Two contracts' confirmations: ours (4711001 / 20269876) and another company's."""
    ours = contract_payload()
    theirs = contract_payload(
        contract_number="2026-000999",
        company={"company_number": "9999999", "name": "Andere AG", "email": "info@andere.example"},
    )
    deliver(service, CONTRACT, ours)
    deliver(service, PREPARED, prepared_payload(ours["contract_id"]))
    deliver(service, CONTRACT, theirs)
    deliver(service, PREPARED, prepared_payload(theirs["contract_id"], apprentice_number="20260001"))
    ids: dict[str, str] = {"contract": ours["contract_id"], "other_contract": theirs["contract_id"]}
    for row in service.rows(orm.documents):
        mine = str(row.contract_id) == ours["contract_id"]
        ids[("" if mine else "other_") + row.recipient_kind] = str(row.id)
    return ids


@pytest.fixture
def as_(test_issuer):
    def headers(who: str) -> dict[str, str]:
        subject = APPRENTICE_SUB if who == "apprentice" else None
        return test_issuer.header(subject, **CLAIMS[who])

    return headers


def test_no_token_is_401_everywhere(client, issued) -> None:
    for url in (
        "/documents",
        f"/documents/{issued['company']}",
        f"/documents/{issued['company']}/content",
        f"/contracts/{issued['contract']}/documents",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.mimetype == "application/problem+json"
    assert client.get("/documents", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("apprentice", {"apprentice"}),
        ("other_apprentice", {"other_apprentice"}),
        ("company_admin", {"company"}),
        ("company_manager", {"company"}),
        ("company_trainer", set()),
        ("other_company_admin", {"other_company"}),
        ("chamber", {"company", "apprentice", "other_company", "other_apprentice"}),
    ],
)
def test_access_matrix(client, issued, as_, who, visible) -> None:
    listed = client.get("/documents", headers=as_(who))
    assert listed.status_code == 200
    by_id = {v: k for k, v in issued.items()}
    assert listed.json["next_cursor"] is None
    assert {by_id[item["id"]] for item in listed.json["items"]} == visible
    for item in listed.json["items"]:
        assert set(item) == {
            "id",
            "title",
            "kind",
            "contract_id",
            "recipient_kind",
            "issued_at",
            "first_opened_at",
            "opened",
        }

    for key in ("company", "apprentice", "other_company", "other_apprentice"):
        meta = client.get(f"/documents/{issued[key]}", headers=as_(who))
        content = client.get(f"/documents/{issued[key]}/content", headers=as_(who))
        expected = 200 if key in visible else 404
        assert (meta.status_code, content.status_code) == (expected, expected), key
        if expected == 404:
            assert meta.mimetype == content.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("company_admin", 200),
        ("company_manager", 200),
        ("chamber", 200),
        ("company_trainer", 404),
        ("other_company_admin", 404),
        ("apprentice", 404),
    ],
)
def test_contract_documents_access(client, issued, as_, who, status) -> None:
    response = client.get(f"/contracts/{issued['contract']}/documents", headers=as_(who))
    assert response.status_code == status
    if status == 200:
        assert {item["id"] for item in response.json["items"]} == {issued["company"], issued["apprentice"]}


def test_unknown_ids_are_404(client, issued, as_) -> None:
    assert client.get(f"/documents/{uuid.uuid4()}", headers=as_("chamber")).status_code == 404
    assert client.get(f"/contracts/{uuid.uuid4()}/documents", headers=as_("chamber")).status_code == 404
    assert client.get("/documents/not-a-uuid", headers=as_("chamber")).status_code == 404


def test_chamber_filters(client, issued, as_) -> None:
    def ids(query: str) -> set[str]:
        response = client.get(f"/documents?{query}", headers=as_("chamber"))
        assert response.status_code == 200
        return {item["id"] for item in response.json["items"]}

    assert ids(f"contract_id={issued['contract']}") == {issued["company"], issued["apprentice"]}
    assert ids("recipient_kind=company") == {issued["company"], issued["other_company"]}
    assert ids("company_number=9999999&recipient_kind=apprentice") == {issued["other_apprentice"]}
    assert ids("apprentice_number=20269876") == {issued["apprentice"]}
    assert len(ids("limit=1")) == 1


@pytest.mark.parametrize(
    ("query", "pointer"),
    [("unread=vielleicht", "#/unread"), ("limit=0", "#/limit"), ("contract_id=x", "#/contract_id")],
)
def test_bad_query_is_a_422_problem_naming_the_field(client, issued, as_, query, pointer) -> None:
    response = client.get(f"/documents?{query}", headers=as_("chamber"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [error["pointer"] for error in response.json["errors"]] == [pointer]


def opened_events(service) -> list[dict]:
    return [json.loads(r.body) for r in service.rows(orm.outbox, orm.outbox.c.event_type == OPENED)]


def test_read_receipt_on_the_recipients_first_opening_only(client, service, issued, as_) -> None:
    doc = issued["apprentice"]
    # Chamber staff opening it (support) is no read receipt.
    assert client.get(f"/documents/{doc}/content", headers=as_("chamber")).status_code == 200
    assert client.get(f"/documents/{doc}", headers=as_("apprentice")).json["first_opened_at"] is None
    unread = client.get("/documents?unread=true", headers=as_("apprentice")).json["items"]
    assert [item["id"] for item in unread] == [doc]

    first = client.get(f"/documents/{doc}/content", headers=as_("apprentice"))
    assert first.status_code == 200
    assert first.mimetype == "application/pdf" and first.data.startswith(b"%PDF-")
    assert first.headers["Content-Disposition"] == (
        'inline; filename="Eintragungsbestaetigung-2026-000123-Auszubildende.pdf"'
    )
    assert "no-store" in first.headers["Cache-Control"]
    meta = client.get(f"/documents/{doc}", headers=as_("apprentice")).json
    opened_at = meta["first_opened_at"]
    assert opened_at is not None and opened_at.endswith("+00:00") and meta["opened"] is True
    (row,) = service.rows(orm.documents, orm.documents.c.id == uuid.UUID(doc))
    assert row.first_opened_by == APPRENTICE_SUB

    again = client.get(f"/documents/{doc}/content?disposition=attachment", headers=as_("apprentice"))
    assert again.status_code == 200 and again.headers["Content-Disposition"].startswith("attachment; ")
    assert client.get(f"/documents/{doc}", headers=as_("apprentice")).json["first_opened_at"] == opened_at
    assert client.get("/documents?unread=true", headers=as_("apprentice")).json["items"] == []

    (event,) = opened_events(service)
    data = validate_payload(event["type"], event["version"], event["payload"])
    assert str(data["document_id"]) == doc and data["recipient_kind"] == "apprentice"
    assert str(data["opened_by"]) == APPRENTICE_SUB

    # The company sees when the apprentice opened it, in its Ausbildungsverhältnisse.
    receipts = client.get(f"/contracts/{issued['contract']}/documents", headers=as_("company_admin")).json
    by_id = {item["id"]: item for item in receipts["items"]}
    assert by_id[doc]["first_opened_at"] == opened_at
    assert by_id[issued["company"]]["first_opened_at"] is None


def test_company_opening_records_its_own_receipt(client, service, issued, as_) -> None:
    response = client.get(f"/documents/{issued['company']}/content", headers=as_("company_manager"))
    assert response.status_code == 200
    assert client.get(f"/documents/{issued['company']}", headers=as_("company_admin")).json["opened"] is True
    assert [e["payload"]["recipient_kind"] for e in opened_events(service)] == ["company"]


def test_bad_disposition_is_422(client, issued, as_) -> None:
    response = client.get(
        f"/documents/{issued['apprentice']}/content?disposition=evil", headers=as_("apprentice")
    )
    assert response.status_code == 422
    assert client.get(f"/documents/{issued['apprentice']}", headers=as_("apprentice")).json["opened"] is False


def test_seed_demo_makes_the_demo_contract_known(client, service, as_) -> None:
    seed_demo(service.runtime)
    seed_demo(service.runtime)  # idempotent
    demo_contract = "00000000-0000-4000-9000-000000000001"
    response = client.get(f"/contracts/{demo_contract}/documents", headers=as_("company_admin"))
    assert response.status_code == 200 and response.json == {"items": [], "next_cursor": None}
    assert (
        client.get(f"/contracts/{demo_contract}/documents", headers=as_("other_company_admin")).status_code
        == 404
    )


def test_openapi_document_and_health(client) -> None:
    spec = client.get("/openapi.json").json
    assert {
        "/documents",
        "/documents/{document_id}",
        "/documents/{document_id}/content",
        "/contracts/{contract_id}/documents",
    } <= set(spec["paths"])
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_documents_page_by_cursor_newest_first(client, issued, as_) -> None:
    headers = as_("chamber")
    first = client.get("/documents?limit=3", headers=headers)
    assert first.status_code == 200 and len(first.json["items"]) == 3
    assert 'rel="next"' in first.headers["Link"]
    seen = [item["id"] for item in first.json["items"]]
    issued_at = [item["issued_at"] for item in first.json["items"]]
    cursor = first.json["next_cursor"]
    while cursor:
        page = client.get(f"/documents?limit=3&cursor={cursor}", headers=headers)
        seen += [item["id"] for item in page.json["items"]]
        issued_at += [item["issued_at"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
    assert len(seen) == len(set(seen)) == 4
    assert issued_at == sorted(issued_at, reverse=True)
    # Filters and the cursor go together; a foreign cursor or a limit beyond 100 is a 422 on that field.
    company = client.get("/documents?recipient_kind=company&limit=1", headers=headers).json
    following = client.get(
        f"/documents?recipient_kind=company&limit=1&cursor={company['next_cursor']}", headers=headers
    ).json
    assert {item["recipient_kind"] for item in company["items"] + following["items"]} == {"company"}
    assert following["next_cursor"] is None
    for query, pointer in (("cursor=bm90LWEtY3Vyc29y", "#/cursor"), ("limit=101", "#/limit")):
        response = client.get(f"/documents?{query}", headers=headers)
        assert response.status_code == 422, query
        assert [error["pointer"] for error in response.json["errors"]] == [pointer]


def test_contract_documents_page_too(client, issued, as_) -> None:
    url = f"/contracts/{issued['contract']}/documents"
    first = client.get(f"{url}?limit=1", headers=as_("company_admin")).json
    second = client.get(f"{url}?limit=1&cursor={first['next_cursor']}", headers=as_("company_admin")).json
    assert {item["id"] for item in first["items"] + second["items"]} == {
        issued["company"],
        issued["apprentice"],
    }
    assert second["next_cursor"] is None


def test_the_pdf_is_rendered_on_the_first_opening_and_the_same_bytes_answer_every_opening(
    client, service, issued, as_
) -> None:
    doc = issued["apprentice"]
    before = client.get(f"/documents/{doc}", headers=as_("apprentice")).json
    assert before["sha256"] is None and before["size"] is None  # not rendered yet

    answers = [
        client.get(f"/documents/{doc}/content", headers=as_(who))
        for who in ("chamber", "apprentice", "apprentice")
    ]
    assert {response.status_code for response in answers} == {200}
    assert answers[0].data == answers[1].data == answers[2].data
    after = client.get(f"/documents/{doc}", headers=as_("apprentice")).json
    assert after["sha256"] == hashlib.sha256(answers[0].data).hexdigest()
    assert after["size"] == len(answers[0].data)
    assert {response.headers["ETag"] for response in answers} == {f'"{after["sha256"]}"'}
    (row,) = service.rows(orm.documents, orm.documents.c.id == uuid.UUID(doc))
    assert row.content == answers[0].data


def test_a_document_sealed_with_another_secret_answers_503_and_stays_unrendered(
    service, service_settings, issued, as_, test_issuer
) -> None:
    other = bootstrap(dataclasses.replace(service_settings, secret_key="another-secret"))
    other.token_validator = test_issuer.validator()
    try:
        client = build_app(other).test_client()
        response = client.get(f"/documents/{issued['apprentice']}/content", headers=as_("apprentice"))
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "60"
        assert (
            client.get(f"/documents/{issued['apprentice']}", headers=as_("apprentice")).json["opened"]
            is False
        )
    finally:
        other.engine.dispose()
    (row,) = service.rows(orm.documents, orm.documents.c.id == uuid.UUID(issued["apprentice"]))
    assert row.content is None and row.first_opened_at is None

"""The notices API on PostgreSQL and SQLite: the access matrix, read state per person, and bad input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chassis.events.consumer import parse_message
from notifications.entrypoints.app import build_app

COMPANY = "4711001"
OTHER_COMPANY = "4711002"
APPRENTICE = "20260001"
OTHER_APPRENTICE = "20260002"


@pytest.fixture(params=["pg_service", "embedded_service"])
def api(request: pytest.FixtureRequest, test_issuer, issued_envelope):
    """An app (on PostgreSQL, and on SQLite as in embedded mode) with notices for two
    apprentices and two companies, and a token maker."""
    runtime = request.getfixturevalue(request.param).runtime
    runtime.token_validator = test_issuer.validator()
    ids: dict[str, str] = {}
    recipients = {
        "apprentice": ("apprentice", {"apprentice_number": APPRENTICE}),
        "other_apprentice": ("apprentice", {"apprentice_number": OTHER_APPRENTICE}),
        "company": ("company", {"company_number": COMPANY}),
        "other_company": ("company", {"company_number": OTHER_COMPANY}),
    }
    for key, (kind, recipient) in recipients.items():
        event = parse_message(issued_envelope(kind=kind, recipient=recipient).to_json())
        runtime.bus.handle_event(event)
        with runtime.uow_factory() as uow:
            ids[key] = uow.notices.get_by_source(event.envelope.id).id
    client = build_app(runtime).test_client()

    def headers(**claims: Any) -> dict[str, str]:
        return test_issuer.header(claims.pop("sub", None), **claims)

    return client, ids, headers


def unread_count(client: Any, auth: dict[str, str]) -> int:
    response = client.get("/notices/unread-count", headers=auth)
    assert response.status_code == 200
    count: int = response.json["unread_count"]
    return count


PERSONAS: dict[str, dict[str, Any]] = {
    "apprentice": {"roles": ["apprentice"], "apprentice_number": APPRENTICE},
    "company_admin": {"company_roles": {COMPANY: ["admin"]}},
    "company_manager": {"company_roles": {COMPANY: ["manager"]}},
    "company_trainer": {"company_roles": {COMPANY: ["trainer"]}},
    "admin_of_both": {"company_roles": {COMPANY: ["admin"], OTHER_COMPANY: ["manager"]}},
    "chamber_clerk": {"roles": ["chamber_clerk"]},
    "examiner": {"roles": ["examiner"]},
}

VISIBLE = {
    "apprentice": {"apprentice"},
    "company_admin": {"company"},
    "company_manager": {"company"},
    "company_trainer": set(),
    "admin_of_both": {"company", "other_company"},
    "chamber_clerk": set(),
    "examiner": set(),
}


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_access_matrix(api, persona: str) -> None:
    client, ids, headers = api
    auth = headers(**PERSONAS[persona])
    listed = client.get("/notices", headers=auth)
    assert listed.status_code == 200
    visible = {key for key, notice_id in ids.items() if notice_id in {n["id"] for n in listed.json["items"]}}
    assert visible == VISIBLE[persona]
    assert listed.json["next_cursor"] is None
    assert unread_count(client, auth) == len(VISIBLE[persona])
    for key, notice_id in ids.items():
        response = client.post(f"/notices/{notice_id}/read", headers=auth)
        if key in VISIBLE[persona]:
            assert response.status_code == 200
            assert response.json["read"] is True and response.json["id"] == notice_id
        else:
            # Someone else's notice is indistinguishable from none at all.
            assert response.status_code == 404
            assert response.mimetype == "application/problem+json"


def test_read_state_is_per_person_and_first_read_time_stays(api) -> None:
    client, ids, headers = api
    anna = headers(sub="anna", **PERSONAS["company_admin"])
    bernd = headers(sub="bernd", **PERSONAS["company_manager"])
    first = client.post(f"/notices/{ids['company']}/read", headers=anna)
    again = client.post(f"/notices/{ids['company']}/read", headers=anna)
    assert first.status_code == again.status_code == 200
    assert again.json["read_at"] == first.json["read_at"]

    assert unread_count(client, anna) == 0
    assert client.get("/notices?unread_only=true", headers=anna).json["items"] == []
    bernds = client.get("/notices?unread_only=true", headers=bernd).json
    assert [n["id"] for n in bernds["items"]] == [ids["company"]] and unread_count(client, bernd) == 1


def test_notice_content(api) -> None:
    client, _, headers = api
    [notice] = client.get("/notices", headers=headers(**PERSONAS["apprentice"])).json["items"]
    assert notice["title"] == "Neues Dokument: Eintragungsbestätigung 2026-000123"
    assert "„Dokumente“" in notice["message"]
    assert notice["recipient_kind"] == "apprentice" and notice["apprentice_number"] == APPRENTICE
    assert notice["read"] is False and notice["read_at"] is None


@pytest.mark.parametrize(
    "call",
    [
        lambda c, h: c.get("/notices"),
        lambda c, h: c.get("/notices", headers={"Authorization": "Bearer not-a-jwt"}),
        lambda c, h: c.get("/notices/unread-count"),
        lambda c, h: c.post(f"/notices/{uuid.uuid4()}/read"),
    ],
)
def test_without_a_valid_token_is_401(api, call: Callable[..., Any]) -> None:
    client, _, headers = api
    response = call(client, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("unread_only=vielleicht", "unread_only"),
        ("cursor=not-one-of-ours", "cursor"),
    ],
)
def test_bad_query_is_a_422_naming_the_field(api, query: str, pointer: str) -> None:
    client, _, headers = api
    response = client.get(f"/notices?{query}", headers=headers(**PERSONAS["apprentice"]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [e["pointer"] for e in response.json["errors"]] == [f"#/{pointer}"]


@pytest.mark.parametrize("path", [f"/notices/{uuid.uuid4()}/read", "/notices/not-a-uuid/read"])
def test_unknown_notice_is_404(api, path: str) -> None:
    client, _, headers = api
    response = client.post(path, headers=headers(**PERSONAS["apprentice"]))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_openapi_documents_the_notices_api(api) -> None:
    client, _, _ = api
    spec = client.get("/openapi.json").json
    assert {"/notices", "/notices/unread-count", "/notices/{notice_id}/read"} <= set(spec["paths"])
    assert spec["paths"]["/notices"]["get"]["security"] == [{"bearerAuth": []}]
    parameters = {p["name"] for p in spec["paths"]["/notices"]["get"]["parameters"]}
    assert parameters == {"cursor", "limit", "unread_only"}


def test_the_list_pages_by_keyset_newest_first(api, issued_envelope) -> None:
    client, _, headers = api
    auth = headers(**PERSONAS["company_admin"])
    runtime = client.application.extensions["bildungsportal.runtime"]
    for _ in range(4):
        runtime.bus.handle_event(parse_message(issued_envelope(kind="company").to_json()))
    everything = client.get("/notices?limit=100", headers=auth).json["items"]
    assert len(everything) == 5
    assert [n["created_at"] for n in everything] == sorted(
        (n["created_at"] for n in everything), reverse=True
    )

    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"/notices?{query}", headers=auth)
        assert response.status_code == 200
        body = response.json
        seen += [n["id"] for n in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
    assert pages == 3
    assert seen == [n["id"] for n in everything]  # every notice once, in the same order

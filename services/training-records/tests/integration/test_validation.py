"""Bad input answers 400/422 problem+json naming the field, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient


def pointers(response: Any) -> set[str]:
    return {error["pointer"] for error in response.json["errors"]}


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return body


@pytest.fixture
def refused(
    client: FlaskClient, clerk: dict[str, str], count_rows: Callable[[], dict[str, int]]
) -> Callable[..., Any]:
    """POST the body (or raw data), expect a problem with that status, and no row written."""

    def post(status: int, body: Any = None, *, data: str | None = None) -> Any:
        before = count_rows()
        if data is not None:
            response = client.post("/contracts", data=data, content_type="application/json", headers=clerk)
        else:
            response = client.post("/contracts", json=body, headers=clerk)
        assert response.status_code == status, response.json
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == status
        assert count_rows() == before
        return response

    return post


@pytest.mark.parametrize(
    "path",
    [
        ("company",),
        ("company", "company_number"),
        ("apprentice",),
        ("apprentice", "birth_date"),
        ("apprentice", "email"),
        ("occupation_code",),
        ("start_date",),
        ("end_date",),
    ],
)
def test_missing_field(
    refused: Callable[..., Any], registration_body: Callable[..., dict[str, Any]], path: tuple[str, ...]
) -> None:
    response = refused(422, without(registration_body(), *path))
    assert pointers(response) == {"#/" + "/".join(path)}


@pytest.mark.parametrize(
    "override, pointer",
    [
        ({"start_date": 20260901}, "#/start_date"),
        ({"end_date": "31.08.2029"}, "#/end_date"),
        ({"occupation_code": ["25400"]}, "#/occupation_code"),
        ({"apprentice": "Max"}, "#/apprentice"),
        (
            {
                "apprentice": {
                    "first_name": "Max",
                    "last_name": 7,
                    "birth_date": "2009-03-14",
                    "email": "m@x.org",
                }
            },
            "#/apprentice/last_name",
        ),
        (
            {
                "apprentice": {
                    "first_name": "Max",
                    "last_name": "M",
                    "birth_date": "2009-03-14",
                    "email": "kein-at",
                }
            },
            "#/apprentice/email",
        ),
        ({"company": {"company_number": "   "}}, "#/company/company_number"),
        ({"company": {"company_number": "47/11"}}, "#/company/company_number"),
        ({"occupation_code": "254\u000000"}, "#/occupation_code"),
        (
            {"company": {"company_number": "9", "name": "X", "email": "x@x.org", "postal_code": "123"}},
            "#/company/postal_code",
        ),
    ],
)
def test_wrong_type_or_format(
    refused: Callable[..., Any],
    registration_body: Callable[..., dict[str, Any]],
    override: dict[str, Any],
    pointer: str,
) -> None:
    assert pointers(refused(422, registration_body(**override))) == {pointer}


def test_unknown_fields_are_named(
    refused: Callable[..., Any], registration_body: Callable[..., dict[str, Any]]
) -> None:
    body = registration_body(state="active")
    body["apprentice"]["apprentice_number"] = "20260001"  # identity assigns it, never the caller
    assert pointers(refused(422, body)) == {"#/state", "#/apprentice/apprentice_number"}


@pytest.mark.parametrize("data", ["{not json", '{"company": ', "[1, 2"])
def test_malformed_json(refused: Callable[..., Any], data: str) -> None:
    response = refused(400, data=data)
    assert response.json["type"].endswith("/validation-error")


@pytest.mark.parametrize("body", [[], "text", 42])
def test_body_that_is_not_an_object(refused: Callable[..., Any], body: Any) -> None:
    assert pointers(refused(422, body)) == {"#"}


def test_no_body_at_all(refused: Callable[..., Any]) -> None:
    assert {"#/company", "#/apprentice", "#/start_date"} <= pointers(refused(422, None))


def test_rule_violations_name_their_fields(
    refused: Callable[..., Any], registration_body: Callable[..., dict[str, Any]]
) -> None:
    body = registration_body(occupation_code="00000", end_date="2026-08-01", registered_on="2999-01-01")
    body["apprentice"]["birth_date"] = "2015-01-01"
    response = refused(422, body)
    assert pointers(response) == {
        "#/occupation_code",
        "#/end_date",
        "#/registered_on",
        "#/apprentice/birth_date",
    }


def test_unknown_company_needs_name_and_email(
    refused: Callable[..., Any], registration_body: Callable[..., dict[str, Any]]
) -> None:
    response = refused(422, registration_body(company={"company_number": "5551234"}))
    assert pointers(response) == {"#/company/name", "#/company/email"}


def test_known_company_with_other_master_data(
    refused: Callable[..., Any], registration_body: Callable[..., dict[str, Any]]
) -> None:
    response = refused(
        422, registration_body(company={"company_number": "4711001", "email": "x@other.example"})
    )
    assert pointers(response) == {"#/company/email"}


@pytest.mark.parametrize(
    "query, pointer",
    [
        ("limit=0", "#/limit"),
        ("limit=1000", "#/limit"),
        ("limit=abc", "#/limit"),
        ("cursor=bm90LWEtY3Vyc29y", "#/cursor"),  # base64 of "not-a-cursor"
        (f"cursor={'x' * 600}", "#/cursor"),
        ("colour=red", "#/colour"),
        ("page=2", "#/page"),  # offset paging is gone: old arguments are refused, not ignored
    ],
)
def test_bad_query_arguments(client: FlaskClient, clerk: dict[str, str], query: str, pointer: str) -> None:
    response = client.get(f"/contracts?{query}", headers=clerk)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert pointers(response) == {pointer}


def test_a_malformed_contract_id_is_simply_not_found(client: FlaskClient, clerk: dict[str, str]) -> None:
    response = client.get("/contracts/not-a-uuid", headers=clerk)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"

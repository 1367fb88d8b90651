"""Keyset pages over the API: next_cursor and Link, no gaps or repeats, and an index behind each list."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.testing.tokens import TestIssuer
from training_records.bootstrap import TrainingRecordsRuntime

A = "4711001"


def register_many(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]], n: int
) -> list[str]:
    ids = []
    for i in range(n):
        company = {
            "company_number": f"58000{i:02d}",
            "name": f"Betrieb {i % 3}",
            "email": f"b{i}@example.org",
        }
        # Some on the same registration day, so that the register number must break the tie.
        body = registration_body(company=company, registered_on=f"2025-0{1 + i % 3}-15")
        response = client.post("/contracts", json=body, headers=clerk)
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    return ids


def walk(client: FlaskClient, headers: dict[str, str], path: str) -> tuple[list[dict[str, Any]], int]:
    """Follow next_cursor to the end; also checks that the Link header names the same next page."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    pages = 0
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        pages += 1
        items.extend(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            url = None
        else:
            assert f"cursor={cursor}" in response.headers["Link"] and 'rel="next"' in response.headers["Link"]
            url = f"{path}&cursor={cursor}"
    return items, pages


def test_contract_pages_follow_next_cursor_newest_first(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> None:
    registered = register_many(client, clerk, registration_body, 7)
    items, pages = walk(client, clerk, "/contracts?limit=3")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 8  # the seven and the demo contract
    assert set(registered) < set(ids)
    assert pages == 3
    keys = [(item["registered_on"], item["contract_number"]) for item in items]
    assert keys == sorted(keys, reverse=True)


def test_filtered_contract_pages(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> None:
    for _ in range(3):
        assert client.post("/contracts", json=registration_body(), headers=clerk).status_code == 201
    items, pages = walk(client, clerk, f"/contracts?company_number={A}&limit=2")
    assert (len(items), pages) == (4, 2)  # three and the demo contract
    assert {item["company"]["company_number"] for item in items} == {A}


def test_companies_and_occupations_page_in_order(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> None:
    register_many(client, clerk, registration_body, 5)
    companies, _ = walk(client, clerk, "/companies?limit=2")
    keys = [(c["name"], c["company_number"]) for c in companies]
    assert keys == sorted(keys) and len(keys) == 6
    occupations, _ = walk(client, clerk, "/occupations?limit=1")
    titles = [(o["title"], o["code"]) for o in occupations]
    assert titles == sorted(titles) and len(titles) >= 2


@contextmanager
def captured_selects(runtime: TrainingRecordsRuntime) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(runtime.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", capture)


@pytest.mark.parametrize(
    "path, claims, index",
    [
        ("/contracts?limit=2", {"roles": ["chamber_clerk"]}, "ix_contracts_listing"),
        ("/contracts?limit=2", {"company_roles": {A: ["admin"]}}, "ix_contracts_company_listing"),
        (
            "/contracts?limit=2&occupation_code=25400",
            {"roles": ["chamber_clerk"]},
            "ix_contracts_occupation_listing",
        ),
        ("/companies?limit=2", {"roles": ["chamber_clerk"]}, "ix_companies_listing"),
        ("/occupations?limit=1", {"roles": ["chamber_clerk"]}, "ix_occupations_listing"),
    ],
)
def test_every_list_is_read_in_index_order_without_sorting(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    test_issuer: TestIssuer,
    registration_body: Callable[..., dict[str, Any]],
    path: str,
    claims: dict[str, Any],
    index: str,
) -> None:
    """The page after a cursor: PostgreSQL walks an index in the list's order (no Sort node).

    The tables are tiny, so sequential scans are switched off to ask whether an index
    *can* serve the query; without one the plan sorts.
    """
    register_many(client, clerk, registration_body, 3)
    for _ in range(2):
        assert client.post("/contracts", json=registration_body(), headers=clerk).status_code == 201
    headers = test_issuer.header(**claims)
    first = client.get(path, headers=headers).json
    assert first["next_cursor"], first
    with captured_selects(runtime) as statements:
        assert client.get(f"{path}&cursor={first['next_cursor']}", headers=headers).status_code == 200
    # The page is the first ordered select (a company user's list first asks which branches
    # its head offices reach; a contract list then loads the page's details).
    statement, parameters = next((s, p) for s, p in statements if "ORDER BY" in s)
    with runtime.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        # A bitmap scan of a tiny table is cheaper still and sorts afterwards; the question
        # here is whether an index walk in the list's order can serve the page.
        connection.exec_driver_sql("SET enable_bitmapscan = off")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "Sort" not in plan, plan
    assert index in plan, plan
    # The cursor is a condition on the index, so the walk starts at the cursor, not at the top.
    assert "Index Cond" in plan, plan


def _forged(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "path, values",
    [
        ("/contracts", [1, 2]),
        ("/contracts", ["2026-01-01", "2026-000001"]),  # a date as plain text
        ("/contracts", [None, None]),
        ("/contracts", [True, "2026-000001"]),
        ("/contracts", [{"dt": "2026-01-01T00:00:00"}, "2026-000001"]),  # a point in time for a day
        ("/contracts", [{"d": "2026-01-01"}, 5]),
        ("/companies", [{"u": "00000000-0000-4000-8000-000000000000"}, "4711001"]),
        ("/occupations", ["Industriekaufmann/Industriekauffrau", 78100]),
    ],
)
def test_a_forged_cursor_of_the_right_width_is_a_problem_naming_the_cursor(
    client: FlaskClient, clerk: dict[str, str], path: str, values: list[Any]
) -> None:
    """A cursor holds typed sort keys; values of other types never reach the database (no 500)."""
    response = client.get(f"{path}?cursor={_forged(values)}", headers=clerk)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert [e["pointer"] for e in response.json["errors"]] == ["#/cursor"]

"""Role × resource × owner: who gets what from the API (DESIGN §4).

Company A is the demo company with the demo apprentice's contract; company B
gets a contract of its own. Contracts one may not see answer 404, because
their existence is private.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from chassis.testing.tokens import TestIssuer
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.domain.model import Contract

A, B = "4711001", "4711002"
OWN_NUMBER, B_NUMBER = "20260001", "20260002"
A_CONTRACT = "00000000-0000-4000-9000-000000000001"  # chassis.demo.DEMO_CONTRACT

ACTORS: dict[str, dict[str, Any] | None] = {
    "chamber_clerk": {"roles": ["chamber_clerk"]},
    "chamber_admin": {"roles": ["chamber_admin"]},
    "chamber_exam_organiser": {"roles": ["chamber_exam_organiser"]},
    "admin_a": {"company_roles": {A: ["admin"]}},
    "manager_a": {"company_roles": {A: ["manager"]}},
    "trainer_a": {"company_roles": {A: ["trainer"]}},
    "admin_b": {"company_roles": {B: ["admin"]}},
    "apprentice_own": {"roles": ["apprentice"], "apprentice_number": OWN_NUMBER},
    "apprentice_other": {"roles": ["apprentice"], "apprentice_number": "20269999"},
    "examiner": {"roles": ["examiner"]},
    "no_token": None,
}


@pytest.fixture
def world(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> dict[str, str]:
    """Contract ids by owner: A (demo, apprentice 20260001) and B (apprentice 20260002)."""
    company_b = {"company_number": B, "name": "Beispiel Elektro KG", "email": "azubi@beispiel.example"}
    response = client.post("/contracts", json=registration_body(company=company_b), headers=clerk)
    assert response.status_code == 201, response.json
    b_contract = response.json["id"]
    # identity would assign the Azubinummer by event; here it is set directly.
    with runtime.uow_factory() as uow:
        contract = uow.contracts.get(uuid.UUID(b_contract))
        assert isinstance(contract, Contract)
        uow.apprentices.get(contract.apprentice_id).assign_number(B_NUMBER)
        uow.commit()
    return {"A": A_CONTRACT, "B": b_contract, "unknown": str(uuid.uuid4())}


def headers(test_issuer: TestIssuer, actor: str) -> dict[str, str]:
    claims = ACTORS[actor]
    return {} if claims is None else test_issuer.header(**claims)


# actor -> expected status for GET /contracts/<A>, /contracts/<B>, /contracts/<unknown>
SINGLE_READS = {
    "chamber_clerk": (200, 200, 404),
    "chamber_admin": (200, 200, 404),
    "chamber_exam_organiser": (200, 200, 404),
    "admin_a": (200, 404, 404),
    "manager_a": (200, 404, 404),
    "trainer_a": (404, 404, 404),
    "admin_b": (404, 200, 404),
    "apprentice_own": (200, 404, 404),
    "apprentice_other": (404, 404, 404),
    "examiner": (404, 404, 404),
    "no_token": (401, 401, 401),
}


@pytest.mark.parametrize("actor", SINGLE_READS)
def test_reading_one_contract(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, str], actor: str
) -> None:
    got = tuple(
        client.get(f"/contracts/{world[key]}", headers=headers(test_issuer, actor)).status_code
        for key in ("A", "B", "unknown")
    )
    assert got == SINGLE_READS[actor]


# actor -> owners of the contracts GET /contracts lists (None: 401)
LISTS = {
    "chamber_clerk": {"A", "B"},
    "chamber_exam_organiser": {"A", "B"},
    "admin_a": {"A"},
    "manager_a": {"A"},
    "trainer_a": set(),
    "admin_b": {"B"},
    "apprentice_own": {"A"},
    "apprentice_other": set(),
    "examiner": set(),
    "no_token": None,
}


@pytest.mark.parametrize("actor", LISTS)
def test_listing_contracts(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, str], actor: str
) -> None:
    response = client.get("/contracts", headers=headers(test_issuer, actor))
    expected = LISTS[actor]
    if expected is None:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    assert response.status_code == 200
    owners = {key for key in ("A", "B") if world[key] in {item["id"] for item in response.json["items"]}}
    assert owners == expected
    assert len(response.json["items"]) == len(expected)
    assert response.json["next_cursor"] is None


def test_a_company_filter_cannot_widen_what_a_company_sees(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, str]
) -> None:
    response = client.get(f"/contracts?company_number={B}", headers=headers(test_issuer, "admin_a"))
    assert (response.status_code, response.json["items"]) == (200, [])


def test_chamber_staff_filter_and_page(
    client: FlaskClient, clerk: dict[str, str], world: dict[str, str]
) -> None:
    only_b = client.get(f"/contracts?company_number={B}", headers=clerk).json
    assert [item["id"] for item in only_b["items"]] == [world["B"]]
    first = client.get("/contracts?limit=1", headers=clerk).json
    second = client.get(f"/contracts?limit=1&cursor={first['next_cursor']}", headers=clerk).json
    assert (len(first["items"]), len(second["items"]), second["next_cursor"]) == (1, 1, None)
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {world["A"], world["B"]}


# actor -> expected status of POST /contracts
REGISTRATIONS = {
    "chamber_clerk": 201,
    "chamber_admin": 201,
    "chamber_exam_organiser": 403,
    "admin_a": 403,
    "manager_a": 403,
    "apprentice_own": 403,
    "examiner": 403,
    "no_token": 401,
}


@pytest.mark.parametrize("actor", REGISTRATIONS)
def test_registering(
    client: FlaskClient,
    test_issuer: TestIssuer,
    registration_body: Callable[..., dict[str, Any]],
    count_rows: Callable[[], dict[str, int]],
    actor: str,
) -> None:
    before = count_rows()
    response = client.post("/contracts", json=registration_body(), headers=headers(test_issuer, actor))
    assert response.status_code == REGISTRATIONS[actor]
    if response.status_code != 201:
        assert response.mimetype == "application/problem+json"
        assert count_rows() == before


def test_refusal_comes_before_input_checks(client: FlaskClient, test_issuer: TestIssuer) -> None:
    """A caller who may not register learns nothing about the input rules."""
    assert client.post("/contracts", json={}, headers=headers(test_issuer, "admin_a")).status_code == 403
    assert client.post("/contracts", json={}).status_code == 401


# actor -> company numbers GET /companies lists (None: 401)
COMPANIES = {
    "chamber_clerk": {A, B},
    "admin_a": {A},
    "trainer_a": {A},
    "admin_b": {B},
    "apprentice_own": set(),
    "no_token": None,
}


@pytest.mark.parametrize("actor", COMPANIES)
def test_listing_companies(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, str], actor: str
) -> None:
    response = client.get("/companies", headers=headers(test_issuer, actor))
    expected = COMPANIES[actor]
    if expected is None:
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert {item["company_number"] for item in response.json["items"]} == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_occupations_are_open_to_every_signed_in_user(
    client: FlaskClient, test_issuer: TestIssuer, actor: str
) -> None:
    response = client.get("/occupations?limit=100", headers=headers(test_issuer, actor))
    if ACTORS[actor] is None:
        assert response.status_code == 401
    else:
        assert response.status_code == 200
        titles = {item["code"]: item["title"] for item in response.json["items"]}
        assert titles["78100"] == "Industriekaufmann/Industriekauffrau"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer "],
)
def test_bad_credentials_are_refused(client: FlaskClient, authorization: str) -> None:
    response = client.get("/contracts", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_tokens_of_another_issuer_are_refused(client: FlaskClient) -> None:
    stranger = TestIssuer()  # same claims, different key
    response = client.get("/contracts", headers=stranger.header(roles=["chamber_clerk"]))
    assert response.status_code == 401


def test_expired_tokens_are_refused(client: FlaskClient, test_issuer: TestIssuer) -> None:
    token = test_issuer.token(roles=["chamber_clerk"], lifetime=-60)
    response = client.get("/contracts", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401

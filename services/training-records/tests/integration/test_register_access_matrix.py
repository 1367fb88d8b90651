"""The register's authorization matrix over HTTP against PostgreSQL: role × resource × owner.

Company A is the demo company (demo contract, apprentice 20260001); B is another company;
C is a branch of A. Each has a contract (apprentices 20260001, 20260002, 20260003) and a
trainer assigned to it. Where a caller may not know that a resource exists, the answer is
404; where the caller belongs to the company (or is chamber staff) but lacks the role, 403.

Write probes are chosen so that an allowed caller passes the access rule and then fails a
business rule (422) or changes nothing (200): the matrix shows the access decision without
the probes changing the world under the next caller.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chassis.testing.tokens import TestIssuer
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.domain.model import Contract

A, B, C = "4711001", "4711002", "4711003"
A_CONTRACT = "00000000-0000-4000-9000-000000000001"  # chassis.demo.DEMO_CONTRACT
APPRENTICE_NUMBERS = {"A": "20260001", "B": "20260002", "C": "20260003"}
OWNERS = ("A", "B", "C")

ACTORS: dict[str, dict[str, Any] | None] = {
    "clerk": {"roles": ["chamber_clerk"]},
    "chamber_admin": {"roles": ["chamber_admin"]},
    "organiser": {"roles": ["chamber_exam_organiser"]},
    "admin_a": {"company_roles": {A: ["admin"]}},
    "manager_a": {"company_roles": {A: ["manager"]}},
    "trainer_a": {"company_roles": {A: ["trainer"]}},
    "admin_b": {"company_roles": {B: ["admin"]}},
    "admin_c": {"company_roles": {C: ["admin"]}},
    "apprentice_a": {"roles": ["apprentice"], "apprentice_number": APPRENTICE_NUMBERS["A"]},
    "apprentice_b": {"roles": ["apprentice"], "apprentice_number": APPRENTICE_NUMBERS["B"]},
    "examiner": {"roles": ["examiner"]},
    "anonymous": None,
}


def headers(test_issuer: TestIssuer, actor: str) -> dict[str, str]:
    claims = ACTORS[actor]
    return {} if claims is None else test_issuer.header(**claims)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.json
    body: dict[str, Any] = response.json
    return body


@pytest.fixture
def world(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """Companies B and C (a branch of A), a contract and an assigned trainer in each, an import."""
    created(
        client.post(
            "/companies",
            json={"company_number": B, "name": "Beispiel Elektro KG", "email": "azubi@beispiel.example"},
            headers=clerk,
        )
    )
    created(
        client.post(
            "/companies",
            json={
                "company_number": C,
                "name": "Muster Maschinenbau Niederlassung Fulda",
                "email": "fulda@muster-maschinenbau.example",
                "head_office_number": A,
            },
            headers=clerk,
        )
    )
    contracts = {"A": A_CONTRACT}
    for owner, number in (("B", B), ("C", C)):
        body = registration_body(company={"company_number": number}, probation_months=4)
        contracts[owner] = created(client.post("/contracts", json=body, headers=clerk))["id"]
    # identity would assign the Azubinummer by event; here it is set directly.
    with runtime.uow_factory() as uow:
        for owner in ("B", "C"):
            contract = uow.contracts.get(uuid.UUID(contracts[owner]))
            assert isinstance(contract, Contract)
            uow.apprentices.get(contract.apprentice_id).assign_number(APPRENTICE_NUMBERS[owner])
        uow.commit()

    trainers = {}
    for owner, number in zip(OWNERS, (A, B, C), strict=True):
        trainer = {
            "first_name": "Tina",
            "last_name": f"Trainer{owner}",
            "email": f"tina.{owner.lower()}@example.org",
            "qualified": True,
        }
        trainers[owner] = created(client.post(f"/companies/{number}/trainers", json=trainer, headers=clerk))
        assigned = client.post(
            f"/contracts/{contracts[owner]}/changes",
            json={"kind": "trainer_changed", "trainer_id": trainers[owner]["id"]},
            headers=clerk,
        )
        assert created(assigned)["trainer"]["id"] == trainers[owner]["id"]

    job = created(
        client.post(
            "/imports",
            data={"file": (io.BytesIO(b"Vertragsnummer;Identnummer\nV-1;4711001\n"), "export.csv")},
            headers=clerk,
            content_type="multipart/form-data",
        )
    )
    return {
        "contracts": contracts,
        "companies": {"A": A, "B": B, "C": C},
        "trainers": trainers,
        "import": job["job"]["id"],
    }


def matrix(
    client: FlaskClient,
    test_issuer: TestIssuer,
    expected: dict[str, tuple[int, ...]],
    requests: Callable[[FlaskClient, dict[str, str]], tuple[Any, ...]],
) -> None:
    """Every actor's statuses for ``requests``; all differences are reported at once."""
    actual = {}
    for actor in expected:
        responses = requests(client, headers(test_issuer, actor))
        actual[actor] = tuple(response.status_code for response in responses)
        for response in responses:
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (actor, response.status_code)
    wrong = {actor: (actual[actor], wanted) for actor, wanted in expected.items() if actual[actor] != wanted}
    assert wrong == {}, "actor: (got, expected)"


# -- reading ----------------------------------------------------------------------------------------

# GET /contracts/<A|B|C> (and their history). Trainers see their company, not its contracts.
CONTRACT_READS = {
    "clerk": (200, 200, 200),
    "chamber_admin": (200, 200, 200),
    "organiser": (200, 200, 200),
    "admin_a": (200, 404, 404),  # C is A's branch, but A's reach is off
    "manager_a": (200, 404, 404),
    "trainer_a": (404, 404, 404),
    "admin_b": (404, 200, 404),
    "admin_c": (404, 404, 200),  # a branch does not see its head office
    "apprentice_a": (200, 404, 404),
    "apprentice_b": (404, 200, 404),
    "examiner": (404, 404, 404),
    "anonymous": (401, 401, 401),
}


def test_reading_contracts_and_their_history(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    ids = world["contracts"]
    matrix(
        client,
        test_issuer,
        CONTRACT_READS,
        lambda c, h: tuple(c.get(f"/contracts/{ids[o]}", headers=h) for o in OWNERS),
    )
    matrix(
        client,
        test_issuer,
        CONTRACT_READS,
        lambda c, h: tuple(c.get(f"/contracts/{ids[o]}/history", headers=h) for o in OWNERS),
    )


# Owners of the contracts GET /contracts lists.
CONTRACT_LISTS: dict[str, set[str]] = {
    "clerk": {"A", "B", "C"},
    "chamber_admin": {"A", "B", "C"},
    "organiser": {"A", "B", "C"},
    "admin_a": {"A"},
    "manager_a": {"A"},
    "trainer_a": set(),
    "admin_b": {"B"},
    "admin_c": {"C"},
    "apprentice_a": {"A"},
    "apprentice_b": {"B"},
    "examiner": set(),
}


def test_listing_contracts(client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]) -> None:
    by_id = {contract_id: owner for owner, contract_id in world["contracts"].items()}
    actual = {}
    for actor in CONTRACT_LISTS:
        response = client.get("/contracts?limit=100", headers=headers(test_issuer, actor))
        assert response.status_code == 200, response.json
        actual[actor] = {by_id[item["id"]] for item in response.json["items"] if item["id"] in by_id}
        # A filter names another company: it narrows, it never widens.
        narrowed = client.get(f"/contracts?company_number={B}", headers=headers(test_issuer, actor))
        assert {by_id[i["id"]] for i in narrowed.json["items"]} == actual[actor] & {"B"}, actor
    assert actual == CONTRACT_LISTS
    assert client.get("/contracts").status_code == 401


# GET /companies/<A|B|C>, /companies/<A|B|C>/trainers, /trainers/<trainer of A|B|C>.
COMPANY_READS = {
    "clerk": (200, 200, 200),
    "chamber_admin": (200, 200, 200),
    "organiser": (200, 200, 200),
    "admin_a": (200, 404, 404),
    "manager_a": (200, 404, 404),
    "trainer_a": (200, 404, 404),  # trainers see their company and its trainers
    "admin_b": (404, 200, 404),
    "admin_c": (404, 404, 200),
    "apprentice_a": (404, 404, 404),
    "apprentice_b": (404, 404, 404),
    "examiner": (404, 404, 404),
    "anonymous": (401, 401, 401),
}


def test_reading_companies_and_their_trainers(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    numbers, trainers = world["companies"], world["trainers"]
    matrix(
        client,
        test_issuer,
        COMPANY_READS,
        lambda c, h: tuple(c.get(f"/companies/{numbers[o]}", headers=h) for o in OWNERS),
    )
    matrix(
        client,
        test_issuer,
        COMPANY_READS,
        lambda c, h: tuple(c.get(f"/companies/{numbers[o]}/trainers", headers=h) for o in OWNERS),
    )
    matrix(
        client,
        test_issuer,
        COMPANY_READS,
        lambda c, h: tuple(c.get(f"/trainers/{trainers[o]['id']}", headers=h) for o in OWNERS),
    )


def test_the_trainer_list_shows_only_the_companys_trainers(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    response = client.get(f"/companies/{A}/trainers", headers=headers(test_issuer, "trainer_a"))
    # A's own trainers: the one this test made and the demo's Anna Ausbilder, none of B's.
    ids = {trainer["id"] for trainer in response.json["items"]}
    assert world["trainers"]["B"]["id"] not in ids
    (only,) = [t for t in response.json["items"] if t["id"] == world["trainers"]["A"]["id"]]
    assert only["id"] == world["trainers"]["A"]["id"]
    assert [c["id"] for c in only["contracts"]] == [A_CONTRACT]


# GET /companies/<A|B|C>/atlas: the profile is its maintainers' (admin, manager, chamber staff).
ATLAS_PROFILE = {
    "clerk": (200, 200, 200),
    "chamber_admin": (200, 200, 200),
    "organiser": (403, 403, 403),  # sees the companies, may not maintain them
    "admin_a": (200, 404, 404),
    "manager_a": (200, 404, 404),
    "trainer_a": (403, 404, 404),
    "admin_b": (404, 200, 404),
    "admin_c": (404, 404, 200),
    "apprentice_a": (404, 404, 404),
    "apprentice_b": (404, 404, 404),
    "examiner": (404, 404, 404),
    "anonymous": (401, 401, 401),
}


def test_reading_the_atlas_profile(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    numbers = world["companies"]
    matrix(
        client,
        test_issuer,
        ATLAS_PROFILE,
        lambda c, h: tuple(c.get(f"/companies/{numbers[o]}/atlas", headers=h) for o in OWNERS),
    )


# GET /imports, /imports/<id>, /imports/<id>/errors, /imports/<id>/report.csv: the chamber's work.
IMPORT_READS = {
    "clerk": (200, 200, 200, 200),
    "chamber_admin": (200, 200, 200, 200),
    **{
        actor: (403, 403, 403, 403)
        for actor in (
            "organiser",
            "admin_a",
            "manager_a",
            "trainer_a",
            "admin_b",
            "admin_c",
            "apprentice_a",
            "apprentice_b",
            "examiner",
        )
    },
    "anonymous": (401, 401, 401, 401),
}


def test_imports_are_for_chamber_staff_only(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    job = world["import"]

    def reads(c: FlaskClient, h: dict[str, str]) -> tuple[Any, ...]:
        return tuple(
            c.get(path, headers=h)
            for path in (
                "/imports",
                f"/imports/{job}",
                f"/imports/{job}/errors",
                f"/imports/{job}/report.csv",
            )
        )

    matrix(client, test_issuer, IMPORT_READS, reads)


# -- changing ---------------------------------------------------------------------------------------

# POST /contracts/<A|B|C>/changes: an extension that ends too early (422 once access is granted),
# then a change of trainer to the one already assigned (the same).
CONTRACT_CHANGES = {
    "clerk": ((422, 422, 422), (422, 422, 422)),
    "chamber_admin": ((422, 422, 422), (422, 422, 422)),
    "organiser": ((403, 403, 403), (403, 403, 403)),
    "admin_a": ((403, 404, 404), (422, 404, 404)),  # the company changes only the trainer
    "manager_a": ((403, 404, 404), (422, 404, 404)),
    "trainer_a": ((404, 404, 404), (404, 404, 404)),
    "admin_b": ((404, 403, 404), (404, 422, 404)),
    "admin_c": ((404, 404, 403), (404, 404, 422)),
    "apprentice_a": ((403, 404, 404), (403, 404, 404)),
    "apprentice_b": ((404, 403, 404), (404, 403, 404)),
    "examiner": ((404, 404, 404), (404, 404, 404)),
    "anonymous": ((401, 401, 401), (401, 401, 401)),
}


def test_changing_contracts(client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]) -> None:
    ids, trainers = world["contracts"], world["trainers"]
    extend = {"kind": "extended", "end_date": "2020-01-31"}
    matrix(
        client,
        test_issuer,
        {actor: expected[0] for actor, expected in CONTRACT_CHANGES.items()},
        lambda c, h: tuple(c.post(f"/contracts/{ids[o]}/changes", json=extend, headers=h) for o in OWNERS),
    )
    matrix(
        client,
        test_issuer,
        {actor: expected[1] for actor, expected in CONTRACT_CHANGES.items()},
        lambda c, h: tuple(
            c.post(
                f"/contracts/{ids[o]}/changes",
                json={"kind": "trainer_changed", "trainer_id": trainers[o]["id"]},
                headers=h,
            )
            for o in OWNERS
        ),
    )


def test_a_company_administrator_changes_the_trainer_of_its_own_contract(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    admin = test_issuer.header(subject="admin-of-a", company_roles={A: ["admin"]})
    other = created(
        client.post(
            f"/companies/{A}/trainers",
            json={
                "first_name": "Otto",
                "last_name": "Obermeister",
                "email": "otto@example.org",
                "qualified": True,
            },
            headers=admin,
        )
    )
    response = client.post(
        f"/contracts/{A_CONTRACT}/changes",
        json={"kind": "trainer_changed", "trainer_id": other["id"]},
        headers=admin,
    )
    assert response.status_code == 201, response.json
    assert response.json["trainer"] == {"id": other["id"], "name": "Otto Obermeister"}
    last = client.get(f"/contracts/{A_CONTRACT}/history", headers=admin).json["items"][-1]
    assert (last["kind"], last["recorded_by"]) == ("trainer_changed", "admin-of-a")
    # Another company's trainer is not theirs to assign.
    refused = client.post(
        f"/contracts/{A_CONTRACT}/changes",
        json={"kind": "trainer_changed", "trainer_id": world["trainers"]["B"]["id"]},
        headers=admin,
    )
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json["errors"]] == ["#/trainer_id"]


# Trainers: POST /companies/<X>/trainers with an address the company already has (422 once
# allowed), PUT /trainers/<its trainer> with the same data (200, no change), DELETE of a trainer
# with a running contract (422 once allowed).
TRAINER_CHANGES = {
    "clerk": (422, 422, 422, 200, 200, 200, 422, 422, 422),
    "chamber_admin": (422, 422, 422, 200, 200, 200, 422, 422, 422),
    "organiser": (403, 403, 403, 403, 403, 403, 403, 403, 403),
    "admin_a": (422, 404, 404, 200, 404, 404, 422, 404, 404),
    "manager_a": (422, 404, 404, 200, 404, 404, 422, 404, 404),
    "trainer_a": (403, 404, 404, 403, 404, 404, 403, 404, 404),  # may see, not change
    "admin_b": (404, 422, 404, 404, 200, 404, 404, 422, 404),
    "admin_c": (404, 404, 422, 404, 404, 200, 404, 404, 422),
    "apprentice_a": (404,) * 9,
    "apprentice_b": (404,) * 9,
    "examiner": (404,) * 9,
    "anonymous": (401,) * 9,
}


def test_changing_trainers(client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]) -> None:
    numbers, trainers = world["companies"], world["trainers"]

    def data(owner: str) -> dict[str, Any]:
        return {k: trainers[owner][k] for k in ("first_name", "last_name", "email", "qualified")}

    def requests(c: FlaskClient, h: dict[str, str]) -> tuple[Any, ...]:
        return (
            *(c.post(f"/companies/{numbers[o]}/trainers", json=data(o), headers=h) for o in OWNERS),
            *(c.put(f"/trainers/{trainers[o]['id']}", json=data(o), headers=h) for o in OWNERS),
            *(c.delete(f"/trainers/{trainers[o]['id']}", headers=h) for o in OWNERS),
        )

    matrix(client, test_issuer, TRAINER_CHANGES, requests)


# The atlas: PUT /companies/<X>/atlas/<unknown occupation> (422 once allowed), and
# PUT /companies/<X>/atlas-consent with the consent it has (200, no change).
ATLAS_CHANGES = {
    "clerk": (422, 422, 422, 200, 200, 200),
    "chamber_admin": (422, 422, 422, 200, 200, 200),
    "organiser": (403,) * 6,
    "admin_a": (422, 404, 404, 200, 404, 404),
    "manager_a": (422, 404, 404, 200, 404, 404),
    "trainer_a": (403, 404, 404, 403, 404, 404),
    "admin_b": (404, 422, 404, 404, 200, 404),
    "admin_c": (404, 404, 422, 404, 404, 200),
    "apprentice_a": (404,) * 6,
    "apprentice_b": (404,) * 6,
    "examiner": (404,) * 6,
    "anonymous": (401,) * 6,
}


def test_changing_the_atlas(client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]) -> None:
    numbers = world["companies"]
    offer = {"places": 2, "postal_code": "34117", "city": "Kassel"}

    def requests(c: FlaskClient, h: dict[str, str]) -> tuple[Any, ...]:
        return (
            *(c.put(f"/companies/{numbers[o]}/atlas/00000", json=offer, headers=h) for o in OWNERS),
            *(
                c.put(f"/companies/{numbers[o]}/atlas-consent", json={"consent": False}, headers=h)
                for o in OWNERS
            ),
        )

    matrix(client, test_issuer, ATLAS_CHANGES, requests)


# The chamber's own: POST /companies, PATCH /companies/B, PUT and DELETE /companies/B/head-office,
# PUT /companies/A/branch-reach, each with a body that fails validation (422 once allowed; DELETE
# of B, which is no branch, changes nothing); refused before the body is read.
CHAMBER_ONLY = {
    "clerk": (422, 422, 422, 200, 422),
    "chamber_admin": (422, 422, 422, 200, 422),
    **{
        actor: (403,) * 5
        for actor in (
            "organiser",
            "admin_a",
            "manager_a",
            "trainer_a",
            "admin_b",
            "admin_c",
            "apprentice_a",
            "apprentice_b",
            "examiner",
        )
    },
    "anonymous": (401,) * 5,
}


def test_keeping_the_register_is_for_chamber_clerks_and_administrators(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    def requests(c: FlaskClient, h: dict[str, str]) -> tuple[Any, ...]:
        return (
            c.post("/companies", json={"company_number": "47/11"}, headers=h),
            c.patch(f"/companies/{B}", json={"postal_code": "1"}, headers=h),
            c.put(f"/companies/{B}/head-office", json={}, headers=h),
            c.delete(f"/companies/{B}/head-office", headers=h),
            c.put(f"/companies/{A}/branch-reach", json={"enabled": "vielleicht"}, headers=h),
        )

    matrix(client, test_issuer, CHAMBER_ONLY, requests)


# The catalogue: POST /occupations with an empty body (422 once allowed), POST
# /occupations/00000/retire (404 once allowed); only the chamber's administrators.
CATALOGUE = {
    "chamber_admin": (422, 404),
    **{
        actor: (403, 403)
        for actor in (
            "clerk",
            "organiser",
            "admin_a",
            "manager_a",
            "trainer_a",
            "admin_b",
            "admin_c",
            "apprentice_a",
            "apprentice_b",
            "examiner",
        )
    },
    "anonymous": (401, 401),
}


def test_only_chamber_administrators_edit_the_catalogue(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    matrix(
        client,
        test_issuer,
        CATALOGUE,
        lambda c, h: (
            c.post("/occupations", json={}, headers=h),
            c.post("/occupations/00000/retire", headers=h),
        ),
    )


def test_the_chamber_administrator_adds_and_retires_an_occupation(
    client: FlaskClient, test_issuer: TestIssuer, clerk: dict[str, str], registration_body: Callable[..., Any]
) -> None:
    admin = test_issuer.header(roles=["chamber_admin"])
    added = client.post(
        "/occupations", json={"code": "99100", "title": "Testberuf", "duration_months": 42}, headers=admin
    )
    assert added.status_code == 201, added.json
    assert (
        client.post("/contracts", json=registration_body(occupation_code="99100"), headers=clerk).status_code
        == 201
    )
    retired = client.post("/occupations/99100/retire", headers=admin)
    assert (retired.status_code, retired.json["retired_on"] is not None) == (200, True)
    refused = client.post("/contracts", json=registration_body(occupation_code="99100"), headers=clerk)
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json["errors"]] == ["#/occupation_code"]
    listed = client.get("/occupations?limit=100", headers=clerk).json["items"]
    assert "99100" not in {o["code"] for o in listed}


def test_apprentices_see_only_their_own_contract_and_its_history(
    client: FlaskClient, test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    own = headers(test_issuer, "apprentice_b")
    listed = client.get("/contracts", headers=own).json["items"]
    assert [item["id"] for item in listed] == [world["contracts"]["B"]]
    history = client.get(f"/contracts/{world['contracts']['B']}/history", headers=own).json["items"]
    assert [entry["kind"] for entry in history] == ["registered", "trainer_changed"]
    assert client.get(f"/companies/{B}", headers=own).status_code == 404


# -- head offices and their branches ----------------------------------------------------------------


def test_a_head_office_sees_its_branches_only_while_reach_is_on(
    client: FlaskClient, clerk: dict[str, str], test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    c_contract, c_trainer = world["contracts"]["C"], world["trainers"]["C"]["id"]

    def reach(enabled: bool) -> None:
        response = client.put(f"/companies/{A}/branch-reach", json={"enabled": enabled}, headers=clerk)
        assert (response.status_code, response.json["branch_reach"]) == (200, enabled)

    def seen_by(actor: str) -> dict[str, Any]:
        h = headers(test_issuer, actor)
        listed = {item["id"] for item in client.get("/contracts?limit=100", headers=h).json["items"]}
        return {
            "listed": c_contract in listed,
            "contract": client.get(f"/contracts/{c_contract}", headers=h).status_code,
            "history": client.get(f"/contracts/{c_contract}/history", headers=h).status_code,
            "company": client.get(f"/companies/{C}", headers=h).status_code,
            "branches": [
                b["company_number"] for b in client.get(f"/companies/{A}/branches", headers=h).json["items"]
            ],
            "trainers": client.get(f"/companies/{C}/trainers", headers=h).status_code,
            "trainer": client.get(f"/trainers/{c_trainer}", headers=h).status_code,
            "atlas": client.get(f"/companies/{C}/atlas", headers=h).status_code,
        }

    hidden = {
        "listed": False,
        "contract": 404,
        "history": 404,
        "company": 404,
        "branches": [C],  # the head office's own list of branches is its own data, either way
        "trainers": 404,
        "trainer": 404,
        "atlas": 404,
    }
    assert seen_by("admin_a") == hidden
    assert seen_by("manager_a") == hidden

    reach(True)
    reached = {
        "listed": True,
        "contract": 200,
        "history": 200,
        "company": 200,
        "branches": [C],
        "trainers": 200,
        "trainer": 200,
        "atlas": 200,
    }
    assert seen_by("admin_a") == reached
    assert seen_by("manager_a") == reached
    # The head office's trainers see the branch and its trainers, not its contracts or atlas profile.
    assert seen_by("trainer_a") == {**reached, "listed": False, "contract": 404, "history": 404, "atlas": 403}
    # Reach runs from the head office down, never up, and never to other companies.
    assert client.get(f"/contracts/{A_CONTRACT}", headers=headers(test_issuer, "admin_c")).status_code == 404
    assert (
        client.get(
            f"/contracts/{world['contracts']['B']}", headers=headers(test_issuer, "admin_a")
        ).status_code
        == 404
    )
    # With reach, the head office maintains the branch's trainers and changes their assignment.
    admin_a = headers(test_issuer, "admin_a")
    added = client.post(
        f"/companies/{C}/trainers",
        json={"first_name": "Rita", "last_name": "Reich", "email": "rita@example.org", "qualified": False},
        headers=admin_a,
    )
    assert added.status_code == 201, added.json
    moved = client.post(
        f"/contracts/{c_contract}/changes",
        json={"kind": "trainer_changed", "trainer_id": added.json["id"]},
        headers=admin_a,
    )
    assert moved.status_code == 201, moved.json

    reach(False)
    assert seen_by("admin_a") == hidden
    assert client.get(f"/trainers/{added.json['id']}", headers=admin_a).status_code == 404


def test_a_company_that_leaves_its_head_office_leaves_its_reach(
    client: FlaskClient, clerk: dict[str, str], test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    assert (
        client.put(f"/companies/{A}/branch-reach", json={"enabled": True}, headers=clerk).status_code == 200
    )
    admin_a = headers(test_issuer, "admin_a")
    assert client.get(f"/contracts/{world['contracts']['C']}", headers=admin_a).status_code == 200
    left = client.delete(f"/companies/{C}/head-office", headers=clerk)
    assert (left.status_code, left.json["head_office_number"]) == (200, None)
    assert client.get(f"/contracts/{world['contracts']['C']}", headers=admin_a).status_code == 404
    assert client.get(f"/companies/{C}", headers=admin_a).status_code == 404


# -- the public Ausbildungsatlas --------------------------------------------------------------------


def test_the_public_atlas_shows_only_consenting_companies_and_a_withdrawal_hides_at_once(
    client: FlaskClient, clerk: dict[str, str], test_issuer: TestIssuer, world: dict[str, Any]
) -> None:
    admin_a, admin_b = headers(test_issuer, "admin_a"), headers(test_issuer, "admin_b")
    # The demo company consents in the seed; start from nobody consenting.
    assert (
        client.put(f"/companies/{A}/atlas-consent", json={"consent": False}, headers=admin_a).status_code
        == 200
    )
    offer = {
        "places": 3,
        "postal_code": "34117",
        "city": "Kassel",
        "website": "https://muster.example/ausbildung",
    }
    assert client.put(f"/companies/{A}/atlas/25400", json=offer, headers=admin_a).status_code == 200
    offer_b = {
        "places": 1,
        "postal_code": "36037",
        "city": "Fulda",
        "contact_email": "azubi@beispiel.example",
    }
    assert client.put(f"/companies/{B}/atlas/25400", json=offer_b, headers=admin_b).status_code == 200
    offer_c = {"places": 0, "postal_code": "36041", "city": "Fulda"}  # no places: not shown even with consent
    assert client.put(f"/companies/{C}/atlas/25400", json=offer_c, headers=clerk).status_code == 200

    def public(query: str = "occupation_code=25400") -> list[str]:
        response = client.get(f"/atlas?{query}")  # no token
        assert response.status_code == 200, response.json
        return [hit["entry"]["company_number"] for hit in response.json["items"]]

    assert public() == []  # nobody consents yet
    for number, h in ((A, admin_a), (C, clerk)):
        assert (
            client.put(f"/companies/{number}/atlas-consent", json={"consent": True}, headers=h).status_code
            == 200
        )
    assert public() == [A]
    hit = client.get("/atlas?occupation_code=25400").json["items"][0]
    assert hit["company_name"] == "Muster Maschinenbau GmbH"
    assert hit["occupation_title"] == "Industriemechaniker/-in"
    assert hit["entry"]["website"] == "https://muster.example/ausbildung"
    assert "Beispiel" not in str(client.get("/atlas?occupation_code=25400").json)

    assert (
        client.put(f"/companies/{B}/atlas-consent", json={"consent": True}, headers=admin_b).status_code
        == 200
    )
    assert public() == [A, B]  # by postcode
    assert public("occupation_code=25400&place=360") == [B]
    assert public("occupation_code=25400&place=kassel") == [A]
    assert public("occupation_code=78100") == [A]  # the demo seeds an entry for 78100
    assert public("occupation_code=13100") == []

    withdrawn = client.put(f"/companies/{A}/atlas-consent", json={"consent": False}, headers=admin_a)
    assert (withdrawn.status_code, withdrawn.json["atlas_consent"]) == (200, False)
    assert public() == [B]  # at once, with the entry still kept for the company
    profile = client.get(f"/companies/{A}/atlas", headers=admin_a).json
    assert (profile["consent"], [e["occupation_code"] for e in profile["entries"]]) == (
        False,
        ["25400", "78100"],
    )


# -- anonymous callers ------------------------------------------------------------------------------


def _sample_path(rule: str) -> str:
    path = rule.replace("<uuid:contract_id>", A_CONTRACT)
    for converter in ("<uuid:trainer_id>", "<uuid:job_id>"):
        path = path.replace(converter, str(uuid.uuid4()))
    for name in ("company_number", "occupation_code", "code"):
        path = path.replace(f"<string:{name}>", "25400" if "code" in name else A)
    assert "<" not in path, rule
    return path


def test_every_state_changing_endpoint_refuses_anonymous_callers(
    runtime: TrainingRecordsRuntime, client: FlaskClient, count_rows: Callable[[], dict[str, int]]
) -> None:
    app = client.application
    assert isinstance(app, Flask)
    changing = sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    )
    # Every register endpoint is among them (the list is read from the app, so new ones join).
    assert {
        ("/contracts", "POST"),
        ("/contracts/<uuid:contract_id>/changes", "POST"),
        ("/companies", "POST"),
        ("/companies/<string:company_number>", "PATCH"),
        ("/companies/<string:company_number>/head-office", "PUT"),
        ("/companies/<string:company_number>/head-office", "DELETE"),
        ("/companies/<string:company_number>/branch-reach", "PUT"),
        ("/companies/<string:company_number>/trainers", "POST"),
        ("/trainers/<uuid:trainer_id>", "PUT"),
        ("/trainers/<uuid:trainer_id>", "DELETE"),
        ("/companies/<string:company_number>/atlas/<string:occupation_code>", "PUT"),
        ("/companies/<string:company_number>/atlas/<string:occupation_code>", "DELETE"),
        ("/companies/<string:company_number>/atlas-consent", "PUT"),
        ("/occupations", "POST"),
        ("/occupations/<string:code>/retire", "POST"),
        ("/imports", "POST"),
    } <= set(changing)
    before = count_rows()
    answers = {}
    for rule, method in changing:
        # A body that would be valid for many of them: refused before it is read.
        response = client.open(_sample_path(rule), method=method, json={"kind": "completed", "consent": True})
        answers[(rule, method)] = (
            response.status_code,
            response.mimetype,
            response.headers.get("WWW-Authenticate", "")[:6],
        )
    assert {
        key: answer
        for key, answer in answers.items()
        if answer != (401, "application/problem+json", "Bearer")
    } == {}
    assert count_rows() == before

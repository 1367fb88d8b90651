"""The register's API against PostgreSQL: status codes and problem+json naming the field for bad
input on every new endpoint (nothing written), the contract's history in order, the contract list's
filters with keyset pages, the events each step leaves in the outbox, and Idempotency-Key on a step."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.contracts.training import (
    BranchAssigned,
    BranchReachChanged,
    BranchRemoved,
    CompanyChanged,
    CompanyRegistered,
    ContractChanged,
    OccupationAdded,
    OccupationRetired,
    TrainerAdded,
    TrainerChanged,
    TrainerRemoved,
)
from chassis.events.catalogue import validate_payload
from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.domain.model import add_months

A, B = "4711001", "4711002"
START = date(2026, 9, 1)  # 25400 Industriemechaniker/-in: 42 months
CHANGED = ContractChanged.TYPE
Case = tuple[str, str, Any, int, set[str]]  # method, path, JSON body, status, pointers


def end_after(months: int, start: date = START) -> str:
    return (add_months(start, months) - timedelta(days=1)).isoformat()


def pointers(response: Any) -> set[str]:
    return {error["pointer"] for error in response.json.get("errors", [])}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.json
    body: dict[str, Any] = response.json
    return body


@pytest.fixture
def answers(
    client: FlaskClient, clerk: dict[str, str], count_rows: Callable[[], dict[str, int]]
) -> Callable[..., None]:
    """Send each case; expect its status and problem+json naming exactly its fields, and no row
    written by any of them. Every difference is reported at once."""

    def check(cases: list[Case], headers: dict[str, str] | None = None) -> None:
        before = count_rows()
        wrong = {}
        for method, path, body, status, fields in cases:
            response = client.open(path, method=method, json=body, headers=headers or clerk)
            got: tuple[int, str, set[str]] = (response.status_code, response.mimetype, pointers(response))
            wanted = (status, "application/problem+json", fields)
            if got != wanted:
                wrong[f"{method} {path} {json.dumps(body, default=str)}"] = (got, wanted)
        assert wrong == {}, "case: (got, expected)"
        assert count_rows() == before

    return check


def add_trainer(client: FlaskClient, headers: dict[str, str], company: str, name: str) -> dict[str, Any]:
    body = {
        "first_name": name,
        "last_name": "Ausbilder",
        "email": f"{name.lower()}@example.org",
        "qualified": True,
    }
    return ok(client.post(f"/companies/{company}/trainers", json=body, headers=headers), 201)


def register(
    client: FlaskClient,
    headers: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
    **overrides: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "probation_months": 4,
        "start_date": START.isoformat(),
        "end_date": end_after(42),
    }
    values.update(overrides)
    return ok(client.post("/contracts", json=registration_body(**values), headers=headers), 201)


def outbox(runtime: TrainingRecordsRuntime) -> list[dict[str, Any]]:
    """The envelopes in the outbox, oldest first."""
    with runtime.engine.connect() as connection:
        rows = (
            connection.execute(sa.select(orm.outbox.c.body).order_by(orm.outbox.c.position)).scalars().all()
        )
    return [json.loads(body) for body in rows]


def new_events(runtime: TrainingRecordsRuntime, seen: int) -> list[tuple[str, dict[str, Any], str]]:
    """(type, payload checked against the catalogue, subject) of the events after the first ``seen``."""
    return [
        (e["type"], validate_payload(e["type"], e["version"], e["payload"]), e["subject"])
        for e in outbox(runtime)[seen:]
    ]


@pytest.fixture
def company_b(client: FlaskClient, clerk: dict[str, str]) -> None:
    body = {"company_number": B, "name": "Beispiel Elektro KG", "email": "azubi@beispiel.example"}
    ok(client.post("/companies", json=body, headers=clerk), 201)


@pytest.fixture
def contract(
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """A contract of A (25400, 1 Sep 2026 for 42 months, probation 4 months) with trainer Anna."""
    anna = add_trainer(client, clerk, A, "Anna")
    body = register(client, clerk, registration_body, trainer_id=anna["id"])
    assert body["trainer"]["id"] == anna["id"]
    return {**body, "anna": anna}


# -- bad input, endpoint by endpoint ----------------------------------------------------------------


def test_bad_terms_of_a_new_contract(
    answers: Callable[..., None],
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
    company_b: None,
) -> None:
    foreign = add_trainer(client, clerk, B, "Bernd")

    def body(**overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"probation_months": 4, "end_date": end_after(42)}
        values.update(overrides)
        return registration_body(**values)

    answers(
        [
            ("POST", "/contracts", body(probation_months=0), 422, {"#/probation_months"}),
            ("POST", "/contracts", body(probation_months=5), 422, {"#/probation_months"}),
            ("POST", "/contracts", body(probation_months="vier"), 422, {"#/probation_months"}),
            ("POST", "/contracts", body(shortened_by_months=13), 422, {"#/shortened_by_months"}),
            ("POST", "/contracts", body(shortened_by_months=-1), 422, {"#/shortened_by_months"}),
            ("POST", "/contracts", body(trainer_id=str(uuid.uuid4())), 422, {"#/trainer_id"}),
            ("POST", "/contracts", body(trainer_id=foreign["id"]), 422, {"#/trainer_id"}),
            ("POST", "/contracts", body(trainer_id="Anna"), 422, {"#/trainer_id"}),
            ("POST", "/contracts", body(specialism="Maschinenbau"), 422, {"#/specialism"}),
            ("POST", "/contracts", body(part_time="manchmal"), 422, {"#/part_time"}),
            # 49 months of a 42-month occupation, full time
            ("POST", "/contracts", body(end_date=end_after(49)), 422, {"#/end_date"}),
            # shortened by 6 months, yet lasting the full 42
            ("POST", "/contracts", body(shortened_by_months=6), 422, {"#/end_date"}),
            # part time: at most one and a half times 42 (63), give or take a month
            ("POST", "/contracts", body(part_time=True, end_date=end_after(65)), 422, {"#/end_date"}),
            (
                "POST",
                "/contracts",
                body(probation_months=0, end_date=end_after(30)),
                422,
                {"#/probation_months", "#/end_date"},
            ),
        ]
    )
    # What the law allows is entered, with its terms.
    part_time = register(client, clerk, registration_body, part_time=True, end_date=end_after(63))
    shortened = register(client, clerk, registration_body, shortened_by_months=6, end_date=end_after(36))
    assert part_time["terms"] == {
        "probation_months": 4,
        "part_time": True,
        "shortened_by_months": 0,
        "specialism": None,
    }
    assert shortened["terms"]["shortened_by_months"] == 6


def test_bad_changes_of_a_contract(
    answers: Callable[..., None],
    client: FlaskClient,
    clerk: dict[str, str],
    contract: dict[str, Any],
    company_b: None,
) -> None:
    path = f"/contracts/{contract['id']}/changes"
    foreign = add_trainer(client, clerk, B, "Bernd")
    answers(
        [
            ("POST", path, {}, 422, {"#/kind"}),
            ("POST", path, {"kind": "verlängert"}, 422, {"#/kind"}),
            ("POST", path, {"kind": "registered"}, 422, {"#/kind"}),  # only the register enters these
            ("POST", path, {"kind": "details_corrected"}, 422, {"#/kind"}),
            (
                "POST",
                path,
                {"kind": "extended", "end_date": "2030-02-28", "colour": "red"},
                422,
                {"#/colour"},
            ),
            ("POST", path, {"kind": "extended"}, 422, {"#/end_date"}),
            ("POST", path, {"kind": "extended", "end_date": "28.02.2031"}, 422, {"#/end_date"}),
            ("POST", path, {"kind": "extended", "end_date": "2030-01-31"}, 422, {"#/end_date"}),  # not later
            (
                "POST",
                path,
                {"kind": "extended", "end_date": end_after(56)},
                422,
                {"#/end_date"},
            ),  # 14 months past
            (
                "POST",
                path,
                {"kind": "shortened", "end_date": end_after(29)},
                422,
                {"#/end_date"},
            ),  # 13 months
            ("POST", path, {"kind": "interrupted", "effective_on": "01.03.2027"}, 422, {"#/effective_on"}),
            ("POST", path, {"kind": "interrupted", "effective_on": "2026-08-31"}, 422, {"#/effective_on"}),
            ("POST", path, {"kind": "resumed", "effective_on": "2027-03-01"}, 422, {"#/state"}),
            (
                "POST",
                path,
                {"kind": "trainer_changed", "trainer_id": str(uuid.uuid4())},
                422,
                {"#/trainer_id"},
            ),
            ("POST", path, {"kind": "trainer_changed", "trainer_id": foreign["id"]}, 422, {"#/trainer_id"}),
            ("POST", path, {"kind": "trainer_changed", "trainer_id": "Bernd"}, 422, {"#/trainer_id"}),
            (
                "POST",
                path,
                {"kind": "trainer_changed", "trainer_id": contract["anna"]["id"]},
                422,
                {"#/trainer_id"},
            ),
            ("POST", path, {"kind": "completed", "effective_on": "2026-08-31"}, 422, {"#/effective_on"}),
            ("POST", path, {"kind": "terminated", "effective_on": "2026-10-15"}, 422, {"#/reason"}),
            (
                "POST",
                path,
                {"kind": "terminated", "effective_on": "2026-10-15", "reason": "weil"},
                422,
                {"#/reason"},
            ),
            # after four months of probation
            (
                "POST",
                path,
                {"kind": "terminated", "effective_on": "2027-01-01", "reason": "probation"},
                422,
                {"#/reason"},
            ),
            (
                "POST",
                path,
                {"kind": "terminated", "effective_on": "2030-03-01", "reason": "mutual"},
                422,
                {"#/effective_on"},
            ),
            ("POST", path, {"kind": "completed", "note": "x" * 501}, 422, {"#/note"}),
            ("POST", f"/contracts/{uuid.uuid4()}/changes", {"kind": "completed"}, 404, set()),
            ("GET", f"/contracts/{uuid.uuid4()}/history", None, 404, set()),
        ]
    )


def test_bad_company_input(
    answers: Callable[..., None], client: FlaskClient, clerk: dict[str, str], company_b: None
) -> None:
    # C is a branch of B, for the rules about head offices.
    branch = {
        "company_number": "4711003",
        "name": "Filiale",
        "email": "f@example.org",
        "head_office_number": B,
    }
    ok(client.post("/companies", json=branch, headers=clerk), 201)
    new = {"company_number": "5550001", "name": "Neu GmbH", "email": "neu@example.org"}
    answers(
        [
            ("POST", "/companies", {**new, "postal_code": "123"}, 422, {"#/postal_code"}),
            ("POST", "/companies", {**new, "postal_code": "341170"}, 422, {"#/postal_code"}),
            ("POST", "/companies", {**new, "company_number": "47/11"}, 422, {"#/company_number"}),
            ("POST", "/companies", {**new, "email": "kein-at"}, 422, {"#/email"}),
            ("POST", "/companies", {"company_number": "5550001", "email": "n@example.org"}, 422, {"#/name"}),
            ("POST", "/companies", {"company_number": "5550001", "name": "Neu"}, 422, {"#/email"}),
            ("POST", "/companies", {"company_number": "5550001"}, 422, {"#/name", "#/email"}),
            ("POST", "/companies", {**new, "head_office_number": "9999999"}, 422, {"#/head_office_number"}),
            ("POST", "/companies", {**new, "head_office_number": "4711003"}, 422, {"#/head_office_number"}),
            ("POST", "/companies", {**new, "branch_reach": True}, 422, {"#/branch_reach"}),
            ("POST", "/companies", {**new, "company_number": A}, 409, set()),
            ("PATCH", f"/companies/{A}", {"postal_code": "3411"}, 422, {"#/postal_code"}),
            ("PATCH", f"/companies/{A}", {"email": "kein-at"}, 422, {"#/email"}),
            ("PATCH", f"/companies/{A}", {"name": "   "}, 422, {"#/name"}),
            ("PATCH", f"/companies/{A}", {"company_number": "4711999"}, 422, {"#/company_number"}),
            ("PATCH", "/companies/9999999", {"name": "Niemand"}, 404, set()),
            ("PUT", f"/companies/{A}/head-office", {}, 422, {"#/head_office_number"}),
            ("PUT", f"/companies/{A}/head-office", {"head_office_number": A}, 422, {"#/head_office_number"}),
            (
                "PUT",
                f"/companies/{A}/head-office",
                {"head_office_number": "9999999"},
                422,
                {"#/head_office_number"},
            ),
            (
                "PUT",
                f"/companies/{A}/head-office",
                {"head_office_number": "4711003"},
                422,
                {"#/head_office_number"},
            ),
            # B has a branch: a head office with branches cannot become a branch itself
            ("PUT", f"/companies/{B}/head-office", {"head_office_number": A}, 422, {"#/branch_number"}),
            ("PUT", "/companies/9999999/head-office", {"head_office_number": A}, 404, set()),
            ("DELETE", "/companies/9999999/head-office", None, 404, set()),
            ("PUT", f"/companies/{A}/branch-reach", {}, 422, {"#/enabled"}),
            ("PUT", f"/companies/{A}/branch-reach", {"enabled": "vielleicht"}, 422, {"#/enabled"}),
            ("PUT", "/companies/4711003/branch-reach", {"enabled": True}, 422, {"#/enabled"}),  # a branch
            ("PUT", "/companies/9999999/branch-reach", {"enabled": True}, 404, set()),
            ("GET", "/companies/9999999", None, 404, set()),
        ]
    )


def test_bad_trainer_input(
    answers: Callable[..., None], client: FlaskClient, clerk: dict[str, str], contract: dict[str, Any]
) -> None:
    anna = contract["anna"]
    good = {"first_name": "Ben", "last_name": "Berger", "email": "ben@example.org", "qualified": False}
    path = f"/companies/{A}/trainers"
    answers(
        [
            ("POST", path, {**good, "qualified": None}, 422, {"#/qualified"}),
            ("POST", path, {k: v for k, v in good.items() if k != "qualified"}, 422, {"#/qualified"}),
            ("POST", path, {**good, "email": "ben(at)example.org"}, 422, {"#/email"}),
            ("POST", path, {**good, "first_name": ""}, 422, {"#/first_name"}),
            ("POST", path, {**good, "last_name": "x" * 101}, 422, {"#/last_name"}),
            ("POST", path, {**good, "email": anna["email"].upper()}, 422, {"#/email"}),  # the company has it
            ("POST", path, {**good, "company_number": B}, 422, {"#/company_number"}),
            ("POST", "/companies/9999999/trainers", good, 404, set()),
            ("PUT", f"/trainers/{uuid.uuid4()}", good, 404, set()),
            ("PUT", f"/trainers/{anna['id']}", {**good, "email": "kein-at"}, 422, {"#/email"}),
            ("DELETE", f"/trainers/{uuid.uuid4()}", None, 404, set()),
            ("DELETE", f"/trainers/{anna['id']}", None, 422, {"#/trainer_id"}),  # still assigned
            ("GET", f"/trainers/{uuid.uuid4()}", None, 404, set()),
        ]
    )
    ben = add_trainer(client, clerk, A, "Ben")
    answers([("PUT", f"/trainers/{ben['id']}", {**good, "email": anna["email"]}, 422, {"#/email"})])
    assert client.delete(f"/trainers/{ben['id']}", headers=clerk).status_code == 204
    answers(
        [
            ("GET", f"/trainers/{ben['id']}", None, 404, set()),
            ("DELETE", f"/trainers/{ben['id']}", None, 404, set()),
        ]
    )


def test_bad_atlas_input(answers: Callable[..., None], client: FlaskClient, clerk: dict[str, str]) -> None:
    good = {"places": 2, "postal_code": "34117", "city": "Kassel"}
    path = f"/companies/{A}/atlas/13100"  # the demo seeds entries for 78100 and 25400, not this one
    answers(
        [
            ("PUT", path, {**good, "website": "kein-url"}, 422, {"#/website"}),
            ("PUT", path, {**good, "website": "ftp://muster.example"}, 422, {"#/website"}),
            ("PUT", path, {**good, "postal_code": "3411"}, 422, {"#/postal_code"}),
            ("PUT", path, {**good, "postal_code": "341170"}, 422, {"#/postal_code"}),
            ("PUT", path, {**good, "postal_code": "3411A"}, 422, {"#/postal_code"}),
            ("PUT", path, {**good, "places": -1}, 422, {"#/places"}),
            ("PUT", path, {**good, "places": 1000}, 422, {"#/places"}),
            ("PUT", path, {"places": 2, "postal_code": "34117"}, 422, {"#/city"}),
            ("PUT", path, {**good, "contact_email": "kein-at"}, 422, {"#/contact_email"}),
            ("PUT", path, {**good, "contact_phone": "ruf mich an"}, 422, {"#/contact_phone"}),
            ("PUT", path, {**good, "consent": True}, 422, {"#/consent"}),
            ("PUT", f"/companies/{A}/atlas/00000", good, 422, {"#/occupation_code"}),
            ("PUT", "/companies/9999999/atlas/25400", good, 404, set()),
            ("DELETE", path, None, 404, set()),  # no entry yet
            ("PUT", f"/companies/{A}/atlas-consent", {}, 422, {"#/consent"}),
            ("PUT", f"/companies/{A}/atlas-consent", {"consent": "ja bitte"}, 422, {"#/consent"}),
            ("PUT", "/companies/9999999/atlas-consent", {"consent": True}, 404, set()),
            ("GET", "/companies/9999999/atlas", None, 404, set()),
        ]
    )
    # The public search is open, but its arguments are checked like any other.
    for query, pointer in (("", "#/occupation_code"), ("occupation_code=25400&farbe=rot", "#/farbe")):
        response = client.get(f"/atlas?{query}")
        assert (response.status_code, response.mimetype, pointers(response)) == (
            422,
            "application/problem+json",
            {pointer},
        )


def test_bad_occupation_input(answers: Callable[..., None], test_issuer: Any) -> None:
    admin = test_issuer.header(roles=["chamber_admin"])
    good = {"code": "99100", "title": "Testberuf"}
    answers(
        [
            ("POST", "/occupations", {"title": "Testberuf"}, 422, {"#/code"}),
            ("POST", "/occupations", {"code": "99100"}, 422, {"#/title"}),
            ("POST", "/occupations", {**good, "code": "99/100"}, 422, {"#/code"}),
            ("POST", "/occupations", {**good, "duration_months": 11}, 422, {"#/duration_months"}),
            ("POST", "/occupations", {**good, "duration_months": 49}, 422, {"#/duration_months"}),
            ("POST", "/occupations", {**good, "specialisms": ["A", "A"]}, 422, {"#/specialisms"}),
            ("POST", "/occupations", {**good, "specialisms": "A"}, 422, {"#/specialisms"}),
            ("POST", "/occupations", {**good, "split_final_exam": "teils"}, 422, {"#/split_final_exam"}),
            ("POST", "/occupations", {"code": "25400", "title": "Doppelt"}, 409, set()),
            ("POST", "/occupations/00000/retire", None, 404, set()),
        ],
        headers=admin,
    )


# -- history, outbox and idempotency ----------------------------------------------------------------


def test_each_step_leaves_one_event_in_the_outbox_and_the_history_keeps_the_order(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str], contract: dict[str, Any]
) -> None:
    contract_id = contract["id"]
    ben = add_trainer(client, clerk, A, "Ben")
    steps: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"kind": "extended", "end_date": end_after(48)}, {"state": "registered", "end_date": end_after(48)}),
        (
            {"kind": "shortened", "end_date": end_after(42)},
            {"state": "registered", "end_date": end_after(42)},
        ),
        ({"kind": "interrupted", "effective_on": "2027-03-01"}, {"state": "interrupted"}),
        (
            {"kind": "resumed", "effective_on": "2027-06-01", "end_date": end_after(45)},
            {"state": "registered", "end_date": end_after(45)},
        ),
        ({"kind": "trainer_changed", "trainer_id": ben["id"]}, {"trainer_id": ben["id"]}),
        ({"kind": "trainer_changed", "trainer_id": None}, {"trainer_id": None}),
        ({"kind": "completed", "effective_on": "2030-05-20", "note": "bestanden"}, {"state": "completed"}),
    ]
    for body, expected in steps:
        seen = len(outbox(runtime))
        answer = ok(client.post(f"/contracts/{contract_id}/changes", json=body, headers=clerk), 201)
        events = new_events(runtime, seen)
        assert [(event_type, subject) for event_type, _, subject in events] == [(CHANGED, contract_id)], body
        payload = events[0][1]
        assert payload["change"] == body["kind"]
        assert payload["state"] == answer["state"]
        assert payload["end_date"].isoformat() == answer["end_date"]
        assert payload["trainer_id"] == (uuid.UUID(answer["trainer"]["id"]) if answer["trainer"] else None)
        for name, value in expected.items():
            actual = payload[name]
            assert (str(actual) if isinstance(actual, uuid.UUID | date) else actual) == value, (body, name)
        if "effective_on" in body:
            assert payload["effective_on"].isoformat() == body["effective_on"]

    # A refused step leaves nothing.
    seen = len(outbox(runtime))
    refused = client.post(f"/contracts/{contract_id}/changes", json={"kind": "interrupted"}, headers=clerk)
    assert (refused.status_code, pointers(refused)) == (422, {"#/state"})
    assert len(outbox(runtime)) == seen

    history = ok(client.get(f"/contracts/{contract_id}/history", headers=clerk))["items"]
    assert [entry["kind"] for entry in history] == ["registered"] + [body["kind"] for body, _ in steps]
    recorded = [entry["recorded_at"] for entry in history]
    assert recorded == sorted(recorded)
    assert history[0]["details"] == {} and history[0]["effective_on"] == contract["registered_on"]
    assert history[1]["details"] == {"previous_end_date": end_after(42), "end_date": end_after(48)}
    assert history[3]["details"] == {"since": "2027-03-01"}
    assert history[-1]["details"] == {"ended_on": "2030-05-20", "note": "bestanden"}
    assert history[-1]["effective_on"] == "2030-05-20"
    assert {entry["recorded_by"] for entry in history} == {history[0]["recorded_by"]}
    shown = ok(client.get(f"/contracts/{contract_id}", headers=clerk))
    assert (shown["state"], shown["ended_on"], shown["terms"]["shortened_by_months"]) == (
        "completed",
        "2030-05-20",
        6,
    )


def test_an_early_termination_is_announced_with_its_reason(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str], contract: dict[str, Any]
) -> None:
    seen = len(outbox(runtime))
    body = {
        "kind": "terminated",
        "effective_on": "2026-12-31",
        "reason": "probation",
    }  # the last day of probation
    answer = ok(client.post(f"/contracts/{contract['id']}/changes", json=body, headers=clerk), 201)
    assert (answer["state"], answer["ended_on"], answer["termination_reason"]) == (
        "terminated",
        "2026-12-31",
        "probation",
    )
    ((event_type, payload, _),) = new_events(runtime, seen)
    assert (event_type, payload["state"], payload["termination_reason"]) == (
        CHANGED,
        "terminated",
        "probation",
    )
    # An ended contract takes no further step, and announces nothing.
    again = client.post(f"/contracts/{contract['id']}/changes", json={"kind": "completed"}, headers=clerk)
    assert (again.status_code, pointers(again)) == (422, {"#/state"})
    assert len(outbox(runtime)) == seen + 1


def test_the_register_announces_companies_trainers_and_occupations_when_something_changed(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str], test_issuer: Any
) -> None:
    admin = test_issuer.header(roles=["chamber_admin"])

    def events_of(call: Callable[[], Any], status: int = 200) -> list[tuple[str, str]]:
        seen = len(outbox(runtime))
        response = call()
        assert response.status_code == status, response.json
        return [(event_type, subject) for event_type, _, subject in new_events(runtime, seen)]

    branch = {
        "company_number": "4711003",
        "name": "Filiale",
        "email": "f@example.org",
        "head_office_number": A,
    }
    assert events_of(lambda: client.post("/companies", json=branch, headers=clerk), 201) == [
        (CompanyRegistered.TYPE, "4711003"),
        (BranchAssigned.TYPE, "4711003"),
    ]
    assert events_of(lambda: client.patch("/companies/4711003", json={"city": "Fulda"}, headers=clerk)) == [
        (CompanyChanged.TYPE, "4711003")
    ]
    assert events_of(lambda: client.patch("/companies/4711003", json={"city": "Fulda"}, headers=clerk)) == []
    assert events_of(
        lambda: client.put(f"/companies/{A}/branch-reach", json={"enabled": True}, headers=clerk)
    ) == [(BranchReachChanged.TYPE, A)]
    assert (
        events_of(lambda: client.put(f"/companies/{A}/branch-reach", json={"enabled": True}, headers=clerk))
        == []
    )
    assert events_of(lambda: client.delete("/companies/4711003/head-office", headers=clerk)) == [
        (BranchRemoved.TYPE, "4711003")
    ]
    assert events_of(lambda: client.delete("/companies/4711003/head-office", headers=clerk)) == []

    trainer = {"first_name": "Tom", "last_name": "Tischler", "email": "tom@example.org", "qualified": True}
    seen = len(outbox(runtime))
    created = ok(client.post(f"/companies/{A}/trainers", json=trainer, headers=clerk), 201)
    assert [(t, s) for t, _, s in new_events(runtime, seen)] == [(TrainerAdded.TYPE, created["id"])]
    path = f"/trainers/{created['id']}"
    assert events_of(lambda: client.put(path, json=trainer, headers=clerk)) == []
    assert events_of(lambda: client.put(path, json={**trainer, "qualified": False}, headers=clerk)) == [
        (TrainerChanged.TYPE, created["id"])
    ]
    assert events_of(lambda: client.delete(f"/trainers/{created['id']}", headers=clerk), 204) == [
        (TrainerRemoved.TYPE, created["id"])
    ]

    occupation = {
        "code": "99100",
        "title": "Testberuf",
        "specialisms": ["Nord", "Süd"],
        "duration_months": 36,
    }
    assert events_of(lambda: client.post("/occupations", json=occupation, headers=admin), 201) == [
        (OccupationAdded.TYPE, "99100")
    ]
    assert events_of(lambda: client.post("/occupations/99100/retire", headers=admin)) == [
        (OccupationRetired.TYPE, "99100")
    ]
    assert events_of(lambda: client.post("/occupations/99100/retire", headers=admin)) == []


def test_a_retried_step_with_its_idempotency_key_answers_the_first_answer(
    runtime: TrainingRecordsRuntime, client: FlaskClient, clerk: dict[str, str], contract: dict[str, Any]
) -> None:
    path = f"/contracts/{contract['id']}/changes"
    headers = {**clerk, "Idempotency-Key": "verlaengerung-1"}
    body = {"kind": "extended", "end_date": end_after(48)}
    seen = len(outbox(runtime))
    first = client.post(path, json=body, headers=headers)
    # In between, the contract changes again: the retry still answers what the first request did.
    ok(client.post(path, json={"kind": "extended", "end_date": end_after(50)}, headers=clerk), 201)
    again = client.post(path, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.json["end_date"] == end_after(48)
    assert again.headers["Idempotent-Replayed"] == "true"
    history = ok(client.get(f"/contracts/{contract['id']}/history", headers=clerk))["items"]
    assert [entry["kind"] for entry in history] == ["registered", "extended", "extended"]
    assert len(outbox(runtime)) == seen + 2
    # The same key for another request is a mistake, not a retry.
    reused = client.post(path, json={"kind": "extended", "end_date": end_after(52)}, headers=headers)
    assert (reused.status_code, reused.mimetype) == (422, "application/problem+json")
    assert len(outbox(runtime)) == seen + 2


# -- the contract list: filters and keyset pages ----------------------------------------------------


@pytest.fixture
def contracts(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> dict[str, str]:
    """Six contracts by key (and the demo contract of Lena Lernwillig, registered 2025-08-01)."""
    people = {
        # key: (first name, last name, start, registered on)
        "max": ("Max", "Mustermann", date(2026, 8, 1), "2026-07-01"),
        "mia": ("Mia", "Musterfrau", date(2026, 9, 1), "2026-07-15"),
        "paul": ("Paul", "Schmidt", date(2026, 9, 1), "2026-08-01"),
        "lena": ("Lena", "Muster", date(2026, 10, 1), "2026-08-15"),
        "jonas": ("Jonas", "Krause", date(2026, 8, 1), "2026-09-01"),
        "max2": ("Max", "Mustermann", date(2027, 2, 1), "2026-09-15"),
    }
    ids = {"demo": "00000000-0000-4000-9000-000000000001"}
    for key, (first, last, start, registered_on) in people.items():
        body = registration_body(
            apprentice={
                "first_name": first,
                "last_name": last,
                "birth_date": "2008-01-01",
                "email": f"{key}@example.org",
            },
            start_date=start.isoformat(),
            end_date=end_after(42, start),
            registered_on=registered_on,
            probation_months=3,
        )
        ids[key] = ok(client.post("/contracts", json=body, headers=clerk), 201)["id"]
    for key, step in (
        ("mia", {"kind": "interrupted", "effective_on": "2026-10-01"}),
        ("paul", {"kind": "completed", "effective_on": "2026-11-01"}),
        ("jonas", {"kind": "terminated", "effective_on": "2026-10-01", "reason": "mutual"}),
    ):
        ok(client.post(f"/contracts/{ids[key]}/changes", json=step, headers=clerk), 201)
    return ids


def walk(client: FlaskClient, headers: dict[str, str], query: str) -> tuple[list[str], int]:
    """Every item's id following next_cursor (and the Link header), and how many pages it took."""
    ids: list[str] = []
    pages, url = 0, f"/contracts?{query}"
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        pages += 1
        ids.extend(item["id"] for item in response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            return ids, pages
        assert f"cursor={cursor}" in response.headers["Link"] and 'rel="next"' in response.headers["Link"]
        url = f"/contracts?{query}&cursor={cursor}"


def test_the_contract_list_filters_by_name_state_and_dates(
    client: FlaskClient, clerk: dict[str, str], contracts: dict[str, str]
) -> None:
    keys = {contract_id: key for key, contract_id in contracts.items()}
    expected = {
        # the last name, or "first last", from its start, in any case
        "name=mus": ["max2", "lena", "mia", "max"],
        "name=MUSTERMANN": ["max2", "max"],
        "name=max%20must": ["max2", "max"],
        "name=Mia%20%20Muster": ["mia"],  # spaces as typed
        "name=ster": [],  # not a prefix
        "name=Max": ["max2", "max"],  # the start of "first last"
        "name=mu%25": [],  # the wildcard is a character, not a pattern
        "state=registered": ["max2", "lena", "max", "demo"],
        "state=interrupted": ["mia"],
        "state=completed": ["paul"],
        "state=terminated": ["jonas"],
        "start_from=2026-09-01&start_until=2026-10-01": ["lena", "paul", "mia"],  # both ends included
        "start_from=2027-01-01": ["max2"],
        "start_until=2025-12-31": ["demo"],
        "registered_from=2026-08-01&registered_until=2026-09-01": ["jonas", "lena", "paul"],
        "registered_until=2026-07-01": ["max", "demo"],
        "name=mus&state=registered&start_from=2026-09-01": ["max2", "lena"],
    }
    actual = {}
    for query in expected:
        ids, _ = walk(client, clerk, f"{query}&limit=100")
        actual[query] = [keys.get(contract_id, contract_id) for contract_id in ids]
    assert actual == expected


def test_filtered_lists_page_by_keyset(
    client: FlaskClient, clerk: dict[str, str], contracts: dict[str, str]
) -> None:
    by_one, pages = walk(client, clerk, "name=mus&limit=1")
    assert (len(by_one), pages) == (4, 4)
    assert by_one == [contracts[key] for key in ("max2", "lena", "mia", "max")]  # newest registration first
    by_three, pages = walk(client, clerk, "state=registered&limit=3")
    assert (by_three, pages) == ([contracts[key] for key in ("max2", "lena", "max", "demo")], 2)
    all_of_them, _ = walk(client, clerk, "limit=2")
    assert len(all_of_them) == len(set(all_of_them)) == 7


@pytest.mark.parametrize(
    "query, pointer",
    [
        ("state=eingetragen", "#/state"),
        ("start_from=01.09.2026", "#/start_from"),
        ("registered_until=gestern", "#/registered_until"),
        ("name=" + "x" * 101, "#/name"),
    ],
)
def test_bad_filters_are_named(client: FlaskClient, clerk: dict[str, str], query: str, pointer: str) -> None:
    response = client.get(f"/contracts?{query}", headers=clerk)
    assert (response.status_code, response.mimetype, pointers(response)) == (
        422,
        "application/problem+json",
        {pointer},
    )

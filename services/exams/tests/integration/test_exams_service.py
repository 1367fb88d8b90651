"""exams against real PostgreSQL and RabbitMQ: consumer read model, API access, operations."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.events.envelope import new_envelope
from chassis.service import ServiceRuntime
from chassis.testing.publishing import publish_envelopes
from chassis.testing.running import RunningRuntime
from chassis.testing.tokens import TestIssuer
from chassis.testing.waiting import wait_until
from exams.adapters import orm
from exams.entrypoints.app import build_app


@pytest.fixture
def running(service: RunningRuntime) -> ServiceRuntime:
    service.start()
    return service.runtime


def publish(runtime: ServiceRuntime, payload: dict[str, Any], envelope_id: str | None = None) -> str:
    envelope = new_envelope(
        producer="training-records",
        event_type="training.contract.registered",
        subject=payload["contract_id"],
        payload=payload,
    )
    publish_envelopes(runtime.broker, envelope, times=2)  # and a redelivery
    return envelope.id


def count(runtime: ServiceRuntime, table: sa.Table) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_consumer_keeps_read_model_once_per_event(
    running: ServiceRuntime, contract_payload: Callable[..., dict]
) -> None:
    payload = contract_payload()
    publish(running, payload)
    wait_until(lambda: count(running, orm.inbox) == 1)
    time.sleep(0.3)  # give the duplicate time to arrive; it must change nothing
    assert count(running, orm.registered_contracts) == 1
    assert count(running, orm.inbox) == 1


def test_invalid_event_is_dead_lettered_and_writes_nothing(
    running: ServiceRuntime, contract_payload: Callable[..., dict]
) -> None:
    from chassis.events import dlq

    bad = contract_payload(start_date="nicht-ein-datum")
    envelope = new_envelope(
        producer="training-records", event_type="training.contract.registered", subject="x", payload=bad
    )
    publish_envelopes(running.broker, envelope)
    queue = running.broker.queue_name("exams", "training.contract.registered")
    wait_until(lambda: len(dlq.inspect(running.broker, queue)) == 1)
    assert count(running, orm.registered_contracts) == 0


def test_api_shows_contracts_by_role(
    running: ServiceRuntime, contract_payload: Callable[..., dict], test_issuer: TestIssuer
) -> None:
    publish(running, contract_payload(company_number="A"))
    publish(running, contract_payload(company_number="B"))
    wait_until(lambda: count(running, orm.registered_contracts) == 2)
    client = build_app(running).test_client()

    organiser = client.get(
        "/registered-contracts", headers=test_issuer.header(roles=["chamber_exam_organiser"])
    )
    assert organiser.status_code == 200
    assert len(organiser.json["items"]) == 2
    assert organiser.json["next_cursor"] is None

    company_a = client.get(
        "/registered-contracts", headers=test_issuer.header(company_roles={"A": ["admin"]})
    )
    assert [c["company_number"] for c in company_a.json["items"]] == ["A"]

    apprentice = client.get(
        "/registered-contracts", headers=test_issuer.header(roles=["apprentice"], apprentice_number="1")
    )
    assert apprentice.status_code == 403
    assert apprentice.mimetype == "application/problem+json"

    anonymous = client.get("/registered-contracts")
    assert anonymous.status_code == 401
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]

    forged = client.get("/registered-contracts", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401


def test_bad_query_is_a_problem_naming_the_field(runtime: ServiceRuntime, test_issuer: TestIssuer) -> None:
    client = build_app(runtime).test_client()
    response = client.get(
        "/registered-contracts?limit=abc", headers=test_issuer.header(roles=["chamber_exam_organiser"])
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["pointer"] == "#/limit"
    assert response.json["errors"][0]["in"] == "query"


def test_operational_endpoints(runtime: ServiceRuntime) -> None:
    client = build_app(runtime).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert b"bp_http_requests_total" in client.get("/metrics").data
    spec = client.get("/openapi.json").json
    assert "/registered-contracts" in spec["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.headers["X-Request-ID"]


def test_missing_database_answers_503(runtime: ServiceRuntime, test_issuer: TestIssuer) -> None:
    from chassis.db import make_engine
    from exams.bootstrap import bootstrap

    broken = bootstrap(runtime.settings, engine=make_engine("postgresql://postgres@127.0.0.1:1/none"))
    broken.token_validator = test_issuer.validator()
    client = build_app(broken).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    listed = client.get("/registered-contracts", headers=test_issuer.header(roles=["chamber_exam_organiser"]))
    assert listed.status_code == 503
    assert listed.headers["Retry-After"]
    assert "Traceback" not in listed.get_data(as_text=True)


def test_pages_of_the_api_follow_next_cursor_and_link(
    running: ServiceRuntime, contract_payload: Callable[..., dict], test_issuer: TestIssuer
) -> None:
    for _ in range(5):
        publish(running, contract_payload(company_number="A"))
    wait_until(lambda: count(running, orm.registered_contracts) == 5)
    client = build_app(running).test_client()
    headers = test_issuer.header(roles=["chamber_exam_organiser"])
    first = client.get("/registered-contracts?limit=2", headers=headers)
    assert first.status_code == 200 and len(first.json["items"]) == 2
    assert 'rel="next"' in first.headers["Link"]
    seen = [c["contract_id"] for c in first.json["items"]]
    cursor = first.json["next_cursor"]
    while cursor:
        page = client.get(f"/registered-contracts?limit=2&cursor={cursor}", headers=headers)
        seen += [c["contract_id"] for c in page.json["items"]]
        cursor = page.json["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    tampered = client.get("/registered-contracts?cursor=bm90LWEtY3Vyc29y", headers=headers)
    assert tampered.status_code == 422
    assert tampered.json["errors"][0]["pointer"] == "#/cursor"

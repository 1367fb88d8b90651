"""Register through the API → outbox row → relay → the consumers' queues on RabbitMQ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from chassis.contracts.training import ContractRegistered
from chassis.events.catalogue import contract_for
from chassis.events.consumer import parse_message
from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime

EVENT = ContractRegistered.TYPE


def test_registration_leaves_through_the_outbox_and_reaches_every_consumer(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    response = client.post("/contracts", json=registration_body(), headers=clerk)
    assert response.status_code == 201, response.json
    contract = response.json
    assert response.headers["Location"].endswith(f"/contracts/{contract['id']}")
    assert contract["state"] == "registered"
    assert contract["contract_number"].endswith("-000001")
    assert client.get(response.headers["Location"], headers=clerk).json == contract

    with runtime.engine.connect() as connection:
        rows = connection.execute(sa.select(orm.outbox.c.event_type, orm.outbox.c.sent_at)).all()
    assert [(row.event_type, row.sent_at) for row in rows] == [(EVENT, None)]

    relay = runtime.relay()
    try:
        assert relay.relay_batch() == 1
        assert relay.relay_batch() == 0  # marked sent: never published twice by the relay
    finally:
        relay.publisher.close()

    with runtime.broker.connection() as connection:
        channel = connection.default_channel
        for consumer in contract_for(EVENT, 1).consumers:
            message = runtime.broker.queue(consumer, EVENT)(channel).get(no_ack=True)
            assert message is not None, f"{consumer} got nothing"
            event = parse_message(message.body)  # validates envelope and payload against the catalogue
            assert event.envelope.subject == contract["id"]
            assert event.envelope.producer == "training-records"
            assert isinstance(event.payload, ContractRegistered)
            assert str(event.payload.contract_id) == contract["id"]
            assert event.payload.contract_number == contract["contract_number"]
            assert event.payload.company.company_number == "4711001"
            assert event.payload.apprentice.last_name == "Mustermann"


def test_the_request_id_travels_into_the_event(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    headers = {**clerk, "X-Request-ID": "req-4711"}
    assert client.post("/contracts", json=registration_body(), headers=headers).status_code == 201
    with runtime.engine.connect() as connection:
        body = connection.execute(sa.select(orm.outbox.c.body)).scalar_one()
    assert parse_message(body).envelope.correlation_id == "req-4711"


def test_contract_numbers_continue_after_the_seeded_demo_contract(
    client: FlaskClient, clerk: dict[str, str], registration_body: Callable[..., dict[str, Any]]
) -> None:
    body = registration_body(
        registered_on="2025-08-15",
        start_date="2025-09-01",
        end_date="2029-02-28",  # 3½ years: the standard duration of Industriemechaniker/-in
    )
    response = client.post("/contracts", json=body, headers=clerk)
    assert response.status_code == 201, response.json
    assert response.json["contract_number"] == "2025-000043"  # the demo contract is 2025-000042
    assert response.json["registered_on"] == "2025-08-15"


def test_a_retried_registration_with_its_idempotency_key_registers_once(
    runtime: TrainingRecordsRuntime,
    client: FlaskClient,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    headers = {**clerk, "Idempotency-Key": "registrierung-4711-1"}
    first = client.post("/contracts", json=registration_body(), headers=headers)
    again = client.post("/contracts", json=registration_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    with runtime.engine.connect() as connection:
        contracts = connection.execute(sa.select(sa.func.count()).select_from(orm.contracts)).scalar_one()
        events = connection.execute(sa.select(sa.func.count()).select_from(orm.outbox)).scalar_one()
    assert (contracts, events) == (2, 1)  # the demo contract and this one; announced once

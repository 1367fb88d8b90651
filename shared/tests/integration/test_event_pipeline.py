"""The outbox → relay → broker → consumer pipeline against real PostgreSQL and RabbitMQ,
and the same code on kombu's in-memory transport with SQLite (embedded mode)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.events import dlq
from chassis.events.bus import Publisher
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.testing.samples import contract_registered_payload
from chassis.testing.waiting import wait_until


@pytest.fixture(params=["rabbitmq+postgres", "memory+sqlite"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, make_harness: Callable[..., Any]) -> Any:
    if request.param == "rabbitmq+postgres":
        return make_harness(request.getfixturevalue("database_url"), request.getfixturevalue("amqp_url"))
    return make_harness(f"sqlite:///{tmp_path / 'svc.db'}", "memory://")


def emit(h: Any) -> str:
    return h.emit()


def test_committed_event_reaches_consumer_once(harness: Any) -> None:
    harness.start()
    ids = {emit(harness) for _ in range(5)}
    wait_until(lambda: harness.seen_ids() == ids)
    with harness.engine.connect() as conn:
        unsent = conn.execute(sa.select(sa.func.count()).where(harness.outbox.c.sent_at.is_(None))).scalar()
    assert unsent == 0


def test_rolled_back_unit_of_work_emits_nothing(harness: Any) -> None:
    payload = contract_registered_payload()
    with harness.uow() as uow:
        uow.emit(load_payload(harness.event, 1, payload), subject=payload["contract_id"])
        # no commit: leaving the block rolls back
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(harness.outbox)).scalar() == 0


def test_redelivered_event_is_applied_once(harness: Any) -> None:
    harness.start()
    contract_id = emit(harness)
    wait_until(lambda: contract_id in harness.seen_ids())
    with harness.engine.connect() as conn:
        body = conn.execute(sa.select(harness.outbox.c.body)).scalar_one()
    publisher = Publisher(harness.bus)
    publisher.publish(body, routing_key=harness.event)  # the same event id again
    publisher.close()
    with harness.engine.connect() as conn:
        wait_until(
            lambda: (
                conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar() == 1
                and harness.seen_ids() == {contract_id}
            )
        )
    time.sleep(0.5)
    assert harness.seen_ids() == {contract_id}


def test_transient_failure_is_retried(harness: Any) -> None:
    harness.fail_times = 2  # max_attempts is 3
    harness.start()
    contract_id = emit(harness)
    wait_until(lambda: contract_id in harness.seen_ids())


def test_poison_and_exhausted_messages_are_dead_lettered_and_replayable(harness: Any) -> None:
    harness.start()
    queue = harness.bus.queue_name(harness.consumer_name, harness.event)
    bad = new_envelope(
        producer="training-records",
        event_type=harness.event,
        subject="x",
        payload={"contract_id": "not-a-uuid"},
    )
    publisher = Publisher(harness.bus)
    publisher.publish(bad.to_json(), routing_key=harness.event, message_id=bad.id)
    publisher.publish(b"{not json", routing_key=harness.event)
    publisher.close()

    harness.fail_times = 99
    contract_id = emit(harness)

    def letters() -> list[dlq.DeadLetter]:
        return dlq.inspect(harness.bus, queue)

    wait_until(lambda: len(letters()) == 3)
    reasons = " ".join(letter.reason for letter in letters())
    assert "invalid payload" in reasons and "failed 3 times" in reasons
    assert harness.seen_ids() == set()  # nothing half-written

    harness.fail_times = 0
    assert dlq.replay(harness.bus, queue) == 3
    wait_until(lambda: contract_id in harness.seen_ids())
    # The two poison messages are back in the DLQ; the good one was applied once.
    wait_until(lambda: len(letters()) == 2)
    remaining = {letter.body for letter in letters()}
    assert b"{not json".decode() in remaining
    assert any(json.loads(body).get("id") == bad.id for body in remaining if body.startswith('{"'))


def test_an_unreachable_database_is_waited_for_not_counted_as_an_attempt(harness: Any) -> None:
    from sqlalchemy.exc import OperationalError

    harness.failure = lambda: OperationalError("SELECT 1", {}, Exception("connection refused"))
    harness.fail_times = 6  # twice max_attempts: would be dead-lettered if each counted
    harness.start()
    contract_id = emit(harness)
    wait_until(lambda: contract_id in harness.seen_ids(), 60)
    assert dlq.inspect(harness.bus, harness.bus.queue_name(harness.consumer_name, harness.event)) == []


def test_one_time_secrets_leave_once_and_are_redacted_from_the_outbox(harness: Any) -> None:
    from chassis.events.catalogue import REDACTED

    code = "ABCD-EFGH-JKLM"
    payload = {
        "account_id": "00000000-0000-4000-8000-0000000000aa",
        "contract_id": "00000000-0000-4000-9000-0000000000aa",
        "apprentice_number": "20269999",
        "activation_code": code,
        "activation_expires_at": "2026-12-24T12:00:00+00:00",
        "email": "lena@example.org",
    }
    prepared = "identity.apprentice_account.prepared"
    with harness.uow() as uow:
        uow.emit(load_payload(prepared, 1, payload), subject=payload["account_id"])
        uow.commit()
    relay = harness.relay()
    assert relay.relay_batch() == 1  # declares the catalogued consumers' queues, then publishes
    relay.publisher.close()
    with harness.engine.connect() as conn:
        body = conn.execute(sa.select(harness.outbox.c.body)).scalar_one()
    assert code not in body
    assert json.loads(body)["payload"]["activation_code"] == REDACTED
    # The consumer got the code itself, once.
    queue = harness.bus.queue(consumer="documents", event_type=prepared)
    with harness.bus.connection() as conn:
        message = queue(conn.default_channel).get(no_ack=True)
    assert message is not None
    assert json.loads(message.body)["payload"]["activation_code"] == code

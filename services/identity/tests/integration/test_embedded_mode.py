"""The same code in embedded mode: SQLite and kombu's in-memory transport."""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlalchemy as sa

from chassis.config import ServiceSettings
from chassis.demo import demo_account
from chassis.events.envelope import new_envelope
from chassis.testing.publishing import publish_envelopes
from chassis.testing.running import RunningRuntime
from identity.adapters.orm import outbox
from identity.bootstrap import bootstrap, seed_demo
from identity.entrypoints.app import build_app


def test_embedded_runtime_migrates_seeds_logs_in_and_consumes(
    tmp_path: Path, contract_payload, queue_prefix
) -> None:
    env = {
        "BP_DATA_DIR": str(tmp_path),
        "BP_MODE": "embedded",
        "BP_BUS_URL": "memory://",
        "BP_QUEUE_PREFIX": queue_prefix,
        "BP_LOG_JSON": "0",
    }
    runtime = bootstrap(ServiceSettings.from_env("identity", env))
    assert runtime.settings.database_url == f"sqlite:///{tmp_path / 'identity.db'}"
    runtime.migrate()
    seed_demo(runtime)
    seed_demo(runtime)  # idempotent

    client = build_app(runtime).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    apprentice = demo_account("apprentice")
    response = client.post(
        "/login", data={"login": "20260001", "password": apprentice.password, "csrf_token": token}
    )
    assert response.status_code == 302

    service = RunningRuntime(runtime)
    consumer = runtime.consumer()
    consumer.declare()
    service.run(consumer.run_until)
    try:
        payload = contract_payload()
        envelope = new_envelope(
            producer="training-records",
            event_type="training.contract.registered",
            subject=payload["contract_id"],
            payload=payload,
        )
        publish_envelopes(runtime.broker, envelope)
        deadline = time.monotonic() + 15
        bodies: list[str] = []
        while time.monotonic() < deadline and not bodies:
            with runtime.engine.connect() as conn:
                bodies = list(conn.execute(sa.select(outbox.c.body)).scalars())
            time.sleep(0.05)
        [body] = bodies
        assert json.loads(body)["payload"]["apprentice_number"] == "20260101"
    finally:
        service.close()

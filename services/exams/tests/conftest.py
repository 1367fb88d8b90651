from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime
from chassis.testing.tokens import TestIssuer


@pytest.fixture
def contract_payload() -> Callable[..., dict[str, Any]]:
    def make(company_number: str = "4711001", **overrides: Any) -> dict[str, Any]:
        payload = {
            "contract_id": str(uuid.uuid4()),
            "contract_number": f"2026-{uuid.uuid4().int % 1_000_000:06d}",
            "registered_on": "2026-08-01",
            "start_date": "2026-09-01",
            "end_date": "2029-08-31",
            "occupation": {"code": "78100", "title": "Industriekaufmann/Industriekauffrau"},
            "company": {
                "company_number": company_number,
                "name": "Muster GmbH",
                "email": "firma@example.org",
            },
            "apprentice": {
                "first_name": "Lena",
                "last_name": "Lernwillig",
                "birth_date": "2008-05-17",
                "email": "lena@example.org",
            },
        }
        payload.update(overrides)
        return payload

    return make


@pytest.fixture
def runtime(
    database_url: str, amqp_url: str, queue_prefix: str, test_issuer: TestIssuer, tmp_path: Path
) -> Iterator[ServiceRuntime]:
    from exams.bootstrap import bootstrap

    settings = dataclasses.replace(
        ServiceSettings.from_env("exams", env={"BP_DATA_DIR": str(tmp_path)}),
        database_url=database_url,
        bus_url=amqp_url,
        exchange=f"{queue_prefix}events",
        queue_prefix=queue_prefix,
        issuer=test_issuer.issuer,
        log_json=False,
    )
    rt = bootstrap(settings)
    rt.token_validator = test_issuer.validator()
    rt.migrate()
    yield rt
    with rt.bus.connection() as conn:
        rt.bus.delete_topology(conn)
    rt.engine.dispose()

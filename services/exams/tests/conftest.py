from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chassis.config import ServiceSettings
from chassis.service import ServiceRuntime
from chassis.testing.running import RunningRuntime
from chassis.testing.samples import contract_registered_payload
from chassis.testing.tokens import TestIssuer


@pytest.fixture
def contract_payload() -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        # A contract number of its own per contract: the registered-contracts list orders by it.
        number = f"2026-{uuid.uuid4().int % 1_000_000:06d}"
        return contract_registered_payload(**({"contract_number": number} | overrides))

    return make


@pytest.fixture
def service(
    database_url: str, amqp_url: str, queue_prefix: str, test_issuer: TestIssuer, tmp_path: Path
) -> Iterator[RunningRuntime]:
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
    service = RunningRuntime(rt)
    yield service
    service.close()


@pytest.fixture
def runtime(service: RunningRuntime) -> ServiceRuntime:
    return service.runtime

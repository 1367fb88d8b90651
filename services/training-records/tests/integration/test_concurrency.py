"""Concurrent registrations on PostgreSQL: unique numbers, one row per new company."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from flask import Flask

from training_records.adapters import orm
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.entrypoints.app import build_app

PARALLEL = 8


def test_parallel_registrations_for_one_new_company(
    runtime: TrainingRecordsRuntime,
    clerk: dict[str, str],
    registration_body: Callable[..., dict[str, Any]],
) -> None:
    app: Flask = build_app(runtime)
    company = {"company_number": "7770001", "name": "Parallel GmbH", "email": "azubi@parallel.example"}

    def register(_: int) -> tuple[int, Any]:
        response = app.test_client().post(
            "/contracts", json=registration_body(company=company), headers=clerk
        )
        return response.status_code, response.json

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(register, range(PARALLEL)))

    assert [status for status, _ in results] == [201] * PARALLEL, results
    numbers = sorted(body["contract_number"] for _, body in results)
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, PARALLEL + 1)]
    with runtime.engine.connect() as connection:
        companies = connection.execute(
            sa.select(sa.func.count())
            .select_from(orm.companies)
            .where(orm.companies.c.company_number == "7770001")
        ).scalar_one()
        events = dict(
            connection.execute(
                sa.select(orm.outbox.c.event_type, sa.func.count()).group_by(orm.outbox.c.event_type)
            ).all()
        )
    # One contract event per registration, and the new company announced once.
    assert (companies, events) == (
        1,
        {"training.contract.registered": PARALLEL, "training.company.registered": 1},
    )

"""Fixtures both test tiers share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def registration_body() -> Callable[..., dict[str, Any]]:
    """A valid POST /contracts body (and register command data) for the seeded demo data."""

    def make(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "company": {"company_number": "4711001"},
            "apprentice": {
                "first_name": "Max",
                "last_name": "Mustermann",
                "birth_date": "2009-03-14",
                "email": "max.mustermann@example.org",
            },
            "occupation_code": "25400",
            "start_date": "2026-09-01",
            "end_date": "2030-02-28",
        }
        body.update(overrides)
        return body

    return make

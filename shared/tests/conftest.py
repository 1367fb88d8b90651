from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest


@pytest.fixture
def contract_payload() -> Any:
    return contract_registered_payload


def contract_registered_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "contract_id": str(uuid.uuid4()),
        "contract_number": "2026-000001",
        "registered_on": date(2026, 8, 1).isoformat(),
        "start_date": date(2026, 9, 1).isoformat(),
        "end_date": date(2029, 8, 31).isoformat(),
        "occupation": {"code": "78100", "title": "Industriekaufmann/Industriekauffrau"},
        "company": {"company_number": "4711001", "name": "Muster GmbH", "email": "firma@example.org"},
        "apprentice": {
            "first_name": "Lena",
            "last_name": "Lernwillig",
            "birth_date": "2008-05-17",
            "email": "lena@example.org",
        },
    }
    payload.update(overrides)
    return payload

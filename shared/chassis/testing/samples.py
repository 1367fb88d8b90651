"""Sample event payloads, as their producers send them, for tests and benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any


def contract_registered_payload(
    *,
    company_number: str | None = None,
    occupation: Mapping[str, Any] | None = None,
    company: Mapping[str, Any] | None = None,
    apprentice: Mapping[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A valid ``training.contract.registered`` v1 payload with a fresh ``contract_id``.

    ``occupation``, ``company`` and ``apprentice`` are merged into the nested defaults,
    ``company_number`` is short for ``company={"company_number": ...}``; any other keyword
    replaces a top-level field (``start_date="nicht-ein-datum"`` makes an invalid one).
    """
    payload: dict[str, Any] = {
        "contract_id": str(uuid.uuid4()),
        "contract_number": "2026-000001",
        "registered_on": "2026-08-01",
        "start_date": "2026-09-01",
        "end_date": "2029-08-31",
        "occupation": {"code": "78100", "title": "Industriekaufmann/Industriekauffrau"},
        "company": {"company_number": "4711001", "name": "Muster GmbH", "email": "firma@example.org"},
        "apprentice": {
            "first_name": "Lena",
            "last_name": "Lernwillig",
            "birth_date": "2008-05-17",
            "email": "lena@example.org",
        },
    }
    payload["occupation"].update(occupation or {})
    payload["company"].update(company or {})
    if company_number is not None:
        payload["company"]["company_number"] = company_number
    payload["apprentice"].update(apprentice or {})
    payload.update(fields)
    return payload

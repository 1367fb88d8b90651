"""Fixtures shared by the unit and integration tests: event payloads as the producers send them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chassis.testing.samples import contract_registered_payload

PayloadFactory = Callable[..., dict[str, Any]]


CONTRACT_DEFAULTS: dict[str, Any] = {
    "contract_number": "2026-000123",
    "registered_on": "2026-08-03",
    "company": {"name": "Muster Maschinenbau GmbH", "email": "ausbildung@muster-maschinenbau.example"},
    "apprentice": {
        "first_name": "Jonas",
        "last_name": "Jüngling",
        "birth_date": "2009-03-14",
        "email": "jonas@azubi.example",
    },
}


@pytest.fixture
def contract_payload() -> PayloadFactory:
    """A ``training.contract.registered`` v1 payload; keyword arguments override fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        return contract_registered_payload(**(CONTRACT_DEFAULTS | overrides))

    return make


@pytest.fixture
def prepared_payload() -> PayloadFactory:
    """An ``identity.apprentice_account.prepared`` v1 payload for a contract id."""

    def make(contract_id: str, **overrides: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "account_id": str(uuid.uuid4()),
            "contract_id": contract_id,
            "apprentice_number": "20269876",
            # A distinctive code, so tests can search for it everywhere it must not be.
            "activation_code": "QX7-" + uuid.uuid4().hex[:12].upper(),
            "activation_expires_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
            "email": "jonas@azubi.example",
        }
        payload.update(overrides)
        return payload

    return make

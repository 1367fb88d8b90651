from __future__ import annotations

from typing import Any

import pytest

from chassis.testing.samples import contract_registered_payload


@pytest.fixture
def contract_payload() -> Any:
    return contract_registered_payload

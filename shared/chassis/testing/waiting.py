"""Polling until something asynchronous (a consumer, a relay, a worker) has happened."""

from __future__ import annotations

import time
from collections.abc import Callable


class ConditionNotReached(AssertionError, TimeoutError):
    """A test's failed expectation (AssertionError) that is also a timeout (TimeoutError)."""


def wait_until(
    predicate: Callable[[], object],
    timeout: float = 30.0,
    message: str = "condition",
    *,
    interval: float = 0.05,
) -> None:
    """Return as soon as ``predicate()`` is true; raise ``ConditionNotReached`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise ConditionNotReached(f"{message} not reached within {timeout}s")
        time.sleep(interval)

"""The neutral forms answer no sooner than a fixed time, whatever happened behind them."""

from __future__ import annotations

import time

import pytest

from identity.entrypoints.answer_timing import answer_no_sooner_than


def test_a_quick_answer_waits_for_the_fixed_time() -> None:
    started = time.monotonic()
    with answer_no_sooner_than(0.05):
        pass
    assert time.monotonic() - started >= 0.05


def test_a_failing_block_waits_too() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError), answer_no_sooner_than(0.05):
        raise RuntimeError("database gone")
    assert time.monotonic() - started >= 0.05

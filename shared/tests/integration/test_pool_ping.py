"""The engine's pool pings a connection only when it sat idle (``chassis.db.ping_when_idle``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.db import PING_AFTER_IDLE, make_engine, normalise_url
from chassis.errors import is_unavailable


@pytest.fixture
def engine(database_url: str) -> Any:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    engine.pings = pings  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def terminate(database_url: str, pid: int) -> None:
    other = sa.create_engine(normalise_url(database_url), poolclass=sa.pool.NullPool)
    try:
        with other.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()


def test_a_connection_returned_moments_ago_is_handed_out_without_a_ping(engine: Any) -> None:
    first = backend_pid(engine)  # a fresh connection: no ping either
    assert [backend_pid(engine) for _ in range(5)] == [first] * 5
    assert engine.pings == []


def test_a_connection_that_sat_idle_is_pinged_and_replaced_when_dead(engine: Any, database_url: str) -> None:
    pid = backend_pid(engine)
    terminate(database_url, pid)
    time.sleep(PING_AFTER_IDLE + 0.1)
    assert backend_pid(engine) != pid  # no error: the ping found it dead, the pool connected anew
    assert engine.pings == [1]


def test_a_connection_dropped_within_the_window_fails_as_unavailable_once(
    engine: Any, database_url: str
) -> None:
    pid = backend_pid(engine)
    terminate(database_url, pid)
    with pytest.raises(sa.exc.OperationalError) as failure:
        backend_pid(engine)
    assert is_unavailable(failure.value)
    assert backend_pid(engine) != pid  # the pool replaced it

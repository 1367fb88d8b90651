"""pytest plugin (entry point ``bildungsportal``): fixtures every service's tests share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from chassis.testing.infrastructure import (
    MissingInfrastructure,
    fresh_database,
    postgres_server,
    rabbitmq_server,
)
from chassis.testing.tokens import TestIssuer
from chassis.testing.waiting import wait_until as _wait_until


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    try:
        with postgres_server() as url:
            yield url
    except MissingInfrastructure as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    try:
        with rabbitmq_server() as url:
            yield url
    except MissingInfrastructure as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def make_database(postgres_admin_url: str) -> Iterator[Callable[[str], str]]:
    """Call with a prefix to get the URL of a new, empty database."""
    with ExitStack() as stack:

        def make(prefix: str = "test") -> str:
            return stack.enter_context(fresh_database(postgres_admin_url, prefix))

        yield make


@pytest.fixture
def database_url(make_database: Callable[[str], str]) -> str:
    return make_database("test")


@pytest.fixture
def queue_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}."


@pytest.fixture(scope="session")
def test_issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., None]:
    """``wait_until(predicate, timeout=30.0, message="condition")`` (chassis.testing.waiting)."""
    return _wait_until

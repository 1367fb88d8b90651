"""Where the real database and broker for tests come from.

``TEST_DATABASE_URL`` / ``TEST_AMQP_URL`` name running servers (the Makefile sets
them to the local ones); without them, testcontainers starts containers where a
Docker engine runs. With neither, the test run fails: a missing broker or
database is never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from chassis.db import normalise_url


class MissingInfrastructure(RuntimeError):
    pass


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no usable engine
        return False


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields an admin URL of a PostgreSQL server."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        check_postgres(url)
        yield url
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    raise MissingInfrastructure(
        "No PostgreSQL for the tests: set TEST_DATABASE_URL (make test does) or run a Docker engine."
    )


@contextmanager
def rabbitmq_server() -> Iterator[str]:
    """Yields an AMQP URL of a RabbitMQ broker."""
    url = os.environ.get("TEST_AMQP_URL")
    if url:
        check_rabbitmq(url)
        yield url
        return
    if docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:4-management-alpine") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}//"
        return
    raise MissingInfrastructure(
        "No RabbitMQ for the tests: set TEST_AMQP_URL (make test does) or run a Docker engine."
    )


def check_postgres(url: str) -> None:
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        raise MissingInfrastructure(
            f"PostgreSQL at {engine.url.render_as_string()} is not reachable: {exc}"
        ) from exc
    finally:
        engine.dispose()


def check_rabbitmq(url: str) -> None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=2)
    except Exception as exc:
        raise MissingInfrastructure(f"RabbitMQ at {url} is not reachable: {exc}") from exc


@contextmanager
def fresh_database(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """A new, empty database on the server; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}".replace("-", "_")
    # No pool: a connection kept from before a server restart would fail the DROP.
    admin = sa.create_engine(
        normalise_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(normalise_url(admin_url)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

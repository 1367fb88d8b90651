"""The parts of chassis.idempotency that need no database: keys, fingerprints, the table's shape."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import Flask

from chassis.db import new_metadata
from chassis.idempotency import (
    create_idempotency_table,
    drop_idempotency_table,
    fingerprint,
    idempotency_table,
    init_idempotency,
    parse_key,
)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("a", "a"),
        ("x" * 255, "x" * 255),
        ("with space", "with space"),
        ('"esc\\"aped\\\\"', 'esc"aped\\'),
    ],
)
def test_valid_keys(value: str, key: str) -> None:
    assert parse_key(value) == key


@pytest.mark.parametrize(
    "value",
    [
        "",
        '""',
        "x" * 256,
        '"' + "x" * 256 + '"',
        "schl\u00fcssel",
        "\u2028",
        "tab\there",
        "nul\x00",
        "del\x7f",
        '"unterminated',
        'bare"quote',
        '"a"b"',
        '"bad \\escape"',
        "back\\slash",
    ],
)
def test_invalid_keys(value: str) -> None:
    assert parse_key(value) is None


def test_fingerprint_is_sha256_of_the_body() -> None:
    assert fingerprint(b'{"a": 1}') == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert fingerprint(b"") != fingerprint(b" ")


def test_table_is_keyed_by_subject_and_key() -> None:
    table = idempotency_table(new_metadata())
    assert table.name == "idempotency_keys"
    assert [c.name for c in table.primary_key.columns] == ["subject", "key"]
    assert {
        "method",
        "path",
        "fingerprint",
        "state",
        "response_status",
        "response_body",
        "response_headers",
        "created_at",
        "expires_at",
    } <= set(table.c.keys())
    assert any(index.columns.keys() == ["expires_at"] for index in table.indexes)


def test_table_creates_on_sqlite_with_the_chassis_naming_convention() -> None:
    metadata = new_metadata()
    table = idempotency_table(metadata)
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint(table.name)["constrained_columns"] == ["subject", "key"]
    assert [c["name"] for c in inspector.get_check_constraints(table.name)] == ["ck_idempotency_keys_state"]
    engine.dispose()


def test_init_refuses_a_session_factory_without_an_engine() -> None:
    with pytest.raises(TypeError):
        init_idempotency(Flask("x"), sa.orm.sessionmaker(), idempotency_table(new_metadata()))


def test_the_migration_helpers_create_what_the_metadata_describes(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with engine.begin() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            with Operations.context(context):
                create_idempotency_table()
            assert compare_metadata(context, _metadata_with_table()) == []
            with Operations.context(context):
                drop_idempotency_table()
            assert not sa.inspect(conn).has_table("idempotency_keys")
    finally:
        engine.dispose()


def _metadata_with_table() -> sa.MetaData:
    metadata = new_metadata()
    idempotency_table(metadata)
    return metadata

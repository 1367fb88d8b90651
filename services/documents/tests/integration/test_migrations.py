"""The Alembic migrations build exactly the schema the code maps, on PostgreSQL and SQLite, undo it, and keep data."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chassis import migrations
from chassis.db import make_engine
from chassis.principal import Principal
from documents.adapters import orm
from documents.adapters.orm import metadata
from documents.bootstrap import MIGRATIONS_DIR, bootstrap
from documents.domain.commands import OpenDocument
from documents.domain.model import Document, DocumentContent
from documents.domain.queries import ListUnrendered


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_migrations_match_the_models_and_downgrade_cleanly(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    url = request.getfixturevalue("database_url") if backend == "postgresql" else f"sqlite:///{tmp_path}/d.db"
    migrations.upgrade(url, MIGRATIONS_DIR)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
        indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("documents")}
        assert {
            "ix_documents_listing",
            "ix_documents_company_listing",
            "ix_documents_apprentice_listing",
            "ix_documents_contract_listing",
            "ix_documents_unrendered",
        } <= indexes

        from alembic import command

        command.downgrade(migrations.alembic_config(MIGRATIONS_DIR, url), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(url, MIGRATIONS_DIR)
        assert "contract_turns" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


class NoRendering:
    def render(self, content: DocumentContent) -> bytes:
        raise AssertionError("a document rendered at issue is never rendered again")


def test_documents_rendered_at_issue_keep_their_bytes(database_url: str, service_settings) -> None:
    from alembic import command

    config = migrations.alembic_config(MIGRATIONS_DIR, database_url)
    command.upgrade(config, "0003")
    legacy = b"%PDF-1.7 rendered at issue, before 0004"
    document_id, issued_at = uuid.uuid4(), datetime(2026, 8, 3, 9, 30, tzinfo=UTC)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO documents (id, kind, title, contract_id, recipient_kind, company_number, "
                    "apprentice_number, recipient_name, recipient_email, filename, media_type, size, sha256, "
                    "content, issued_at) VALUES (:id, 'registration_confirmation', 'Eintragungsbestätigung 1', "
                    ":contract_id, 'apprentice', '4711001', '20269876', 'Jonas Jüngling', 'j@azubi.example', "
                    "'x.pdf', 'application/pdf', :size, :sha256, :content, :issued_at)"
                ),
                {
                    "id": document_id,
                    "contract_id": uuid.uuid4(),
                    "size": len(legacy),
                    "sha256": hashlib.sha256(legacy).hexdigest(),
                    "content": legacy,
                    "issued_at": issued_at,
                },
            )
        migrations.upgrade(database_url, MIGRATIONS_DIR)
        with engine.connect() as conn:
            (row,) = conn.execute(sa.select(orm.documents).where(orm.documents.c.id == document_id))
        assert row.content == legacy and row.size == len(legacy)
        assert row.rendered_at == issued_at and row.sealed_data is None and row.template is None

        runtime = bootstrap(service_settings, renderer=NoRendering())
        try:
            apprentice = Principal(
                subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20269876"
            )
            opened = runtime.bus.handle(OpenDocument(apprentice, document_id))
            assert opened.content == legacy and opened.first_opened_by == apprentice.subject
            assert runtime.bus.handle(ListUnrendered()) == []
        finally:
            runtime.engine.dispose()
    finally:
        engine.dispose()


def test_downgrading_refuses_to_drop_documents_not_rendered_yet(database_url: str, service_settings) -> None:
    from alembic import command

    runtime = bootstrap(service_settings, renderer=NoRendering())
    runtime.migrate()
    try:
        document = Document(
            id=uuid.uuid4(),
            kind="registration_confirmation",
            title="Eintragungsbestätigung 1",
            contract_id=uuid.uuid4(),
            recipient_kind="company",
            company_number="4711001",
            apprentice_number=None,
            recipient_name="Muster GmbH",
            recipient_email="firma@example.org",
            filename="x.pdf",
            media_type="application/pdf",
            issued_at=datetime.now(UTC),
            template="registration_confirmation",
            template_version=1,
            sealed_data=b"sealed",
            sealed_sha256="0" * 64,
        )
        with runtime.uow_factory() as uow:
            uow.documents.add(document)
            uow.commit()
        config = migrations.alembic_config(MIGRATIONS_DIR, database_url)
        with pytest.raises(RuntimeError, match="render-pending"):
            command.downgrade(config, "0003")
        assert "sealed_data" in {c["name"] for c in sa.inspect(runtime.engine).get_columns("documents")}
    finally:
        runtime.engine.dispose()

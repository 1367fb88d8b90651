"""documents as its own processes on PostgreSQL: issuing never loads WeasyPrint; ``render-pending`` renders ahead."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader

from chassis.config import ServiceSettings
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from documents.adapters import orm
from documents.bootstrap import DocumentsRuntime, bootstrap

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"


def environment(settings: ServiceSettings, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DOCUMENTS_DATABASE_URL": settings.database_url,
        "DOCUMENTS_SECRET_KEY": "integration-test-secret",
        "BP_BUS_URL": "memory://",
        "BP_DATA_DIR": str(tmp_path),
        "BP_LOG_JSON": "0",
    }


def deliver(runtime: DocumentsRuntime, event_type: str, payload: dict[str, Any]) -> None:
    envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
    assert (
        runtime.bus.handle_event(IncomingEvent(envelope, load_payload(event_type, 1, payload))) == "handled"
    )


def test_handling_the_events_never_imports_weasyprint(
    service_settings, tmp_path, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    script = textwrap.dedent(
        f"""
        import json, sys, uuid
        from chassis.events.catalogue import load_payload
        from chassis.events.envelope import new_envelope
        from chassis.events.incoming import IncomingEvent
        from chassis.principal import Principal
        from documents.bootstrap import bootstrap
        from documents.domain.commands import OpenDocument
        from documents.domain.queries import ListUnrendered

        runtime = bootstrap()
        runtime.migrate()
        for event_type, payload in (({CONTRACT!r}, {contract!r}), ({PREPARED!r}, {prepared!r})):
            envelope = new_envelope(producer="test", event_type=event_type, subject="s", payload=payload)
            assert runtime.bus.handle_event(IncomingEvent(envelope, load_payload(event_type, 1, payload))) == "handled"
        after_issuing = "weasyprint" in sys.modules
        chamber = Principal(subject=str(uuid.uuid4()), roles=frozenset({{"chamber_clerk"}}))
        runtime.bus.handle(OpenDocument(chamber, runtime.bus.handle(ListUnrendered())[0]))
        print(json.dumps({{"after_issuing": after_issuing, "after_opening": "weasyprint" in sys.modules}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environment(service_settings, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == '{"after_issuing": false, "after_opening": true}'


def test_render_pending_renders_every_unopened_document_once(
    service_settings, tmp_path, contract_payload, prepared_payload
) -> None:
    runtime = bootstrap(service_settings)
    runtime.migrate()
    try:
        for _ in range(2):
            contract = contract_payload()
            deliver(runtime, CONTRACT, contract)
            deliver(runtime, PREPARED, prepared_payload(contract["contract_id"]))
        command = [str(Path(sys.executable).parent / "bp-documents"), "render-pending", "--batch", "3"]
        env = environment(service_settings, tmp_path)

        def run(*extra: str) -> str:
            result = subprocess.run(
                [*command, *extra], env=env, capture_output=True, text=True, timeout=300, check=False
            )
            assert result.returncode == 0, result.stderr
            return result.stdout

        assert "rendered 1 document(s)" in run("--limit", "1")
        assert "rendered 3 document(s)" in run()
        with runtime.engine.connect() as conn:
            rows = list(conn.execute(sa.select(orm.documents)))
        assert len(rows) == 4
        for row in rows:
            assert row.content.startswith(b"%PDF-") and row.first_opened_at is None  # no read receipt
            assert PdfReader(io.BytesIO(row.content)).metadata.title == row.title

        assert "rendered 0 document(s)" in run()
        with runtime.engine.connect() as conn:
            assert {r.id: r.content for r in conn.execute(sa.select(orm.documents))} == {
                r.id: r.content for r in rows
            }
    finally:
        runtime.engine.dispose()

"""The same service in embedded mode: SQLite and kombu's in-memory transport, one process."""

from __future__ import annotations

from pathlib import Path

from chassis.config import ServiceSettings
from chassis.events.envelope import new_envelope
from chassis.testing.publishing import publish_envelopes
from chassis.testing.running import RunningRuntime
from documents.adapters import orm
from documents.bootstrap import bootstrap
from documents.entrypoints.app import build_app


def test_issue_and_open_on_sqlite_and_the_memory_bus(
    tmp_path: Path, monkeypatch, queue_prefix, test_issuer, wait, contract_payload, prepared_payload
) -> None:
    monkeypatch.setenv("BP_DATA_DIR", str(tmp_path))  # where the embedded mode keeps its files
    settings = ServiceSettings.from_env(
        "documents",
        {
            "DOCUMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'documents.db'}",
            "BP_BUS_URL": "memory://",
            "BP_QUEUE_PREFIX": queue_prefix,
            "BP_DATA_DIR": str(tmp_path),
            "BP_MODE": "embedded",
            "BP_LOG_JSON": "0",
        },
    )
    runtime = bootstrap(settings)
    runtime.migrate()
    runtime.token_validator = test_issuer.validator()
    service = RunningRuntime(runtime)
    service.start()
    try:
        contract = contract_payload()
        prepared = prepared_payload(contract["contract_id"])
        publish_envelopes(
            runtime.broker,
            new_envelope(
                producer="test",
                event_type="identity.apprentice_account.prepared",
                subject="s",
                payload=prepared,
            ),
            new_envelope(
                producer="test", event_type="training.contract.registered", subject="s", payload=contract
            ),
        )

        def issued() -> int:
            with runtime.engine.connect() as conn:
                return len(list(conn.execute(orm.documents.select())))

        wait(lambda: issued() == 2, message="two documents on SQLite")
        # No secret configured: the vault key was generated in the data directory.
        assert (tmp_path / "secrets" / "DOCUMENTS_SECRET_KEY").exists()

        client = build_app(runtime).test_client()
        headers = test_issuer.header(roles=["apprentice"], apprentice_number="20269876")
        (item,) = client.get("/documents?unread=true", headers=headers).json["items"]
        assert item["issued_at"].endswith("+00:00")
        content = client.get(f"/documents/{item['id']}/content", headers=headers)
        assert content.status_code == 200 and content.data.startswith(b"%PDF-")
        again = client.get(f"/documents/{item['id']}/content", headers=headers)
        assert again.status_code == 200 and again.data == content.data  # rendered once, stored on SQLite
        meta = client.get(f"/documents/{item['id']}", headers=headers).json
        assert meta["first_opened_at"].endswith("+00:00")
        assert client.get("/documents?unread=true", headers=headers).json["items"] == []
    finally:
        service.close()

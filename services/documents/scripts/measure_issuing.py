"""How long documents' event handlers take per registered contract, on PostgreSQL.

Creates a fresh database on the server named by ``--database`` (default
``$TEST_DATABASE_URL``), migrates it, and hands each contract's two events
(``training.contract.registered``, then ``identity.apprentice_account.prepared``)
to the service's real message bus with its real dependencies, timing both
handlers together. The first ``--warmup`` contracts are not counted. The
database is dropped afterwards.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
      ../../.venv/bin/python scripts/measure_issuing.py --contracts 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chassis.config import ServiceSettings
from chassis.events.catalogue import load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.testing.infrastructure import fresh_database
from chassis.testing.samples import contract_registered_payload
from documents.bootstrap import bootstrap

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"


def prepared_payload(contract_id: str, number: int) -> dict[str, Any]:
    return {
        "account_id": str(uuid.uuid4()),
        "contract_id": contract_id,
        "apprentice_number": f"2026{number:04d}",
        "activation_code": "ABCD-EFGH-" + uuid.uuid4().hex[:4].upper(),
        "activation_expires_at": (datetime.now(UTC) + timedelta(days=14)).isoformat(),
        "email": f"azubi{number}@azubi.example",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--contracts", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if not args.database:
        parser.error("name a PostgreSQL server: --database or TEST_DATABASE_URL")

    with (
        fresh_database(args.database, prefix="measure_documents") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = ServiceSettings.from_env(
            "documents",
            {
                "DOCUMENTS_DATABASE_URL": url,
                "BP_BUS_URL": "memory://",
                "BP_DATA_DIR": tmp,
                "DOCUMENTS_SECRET_KEY": "measurement-secret",
                "BP_LOG_LEVEL": "WARNING",
                "BP_LOG_JSON": "0",
            },
        )
        runtime = bootstrap(settings)
        runtime.migrate()
        timings: list[float] = []
        try:
            for number in range(args.warmup + args.contracts):
                contract = contract_registered_payload(contract_number=f"2026-{number:06d}")
                events = [
                    (CONTRACT, contract),
                    (PREPARED, prepared_payload(contract["contract_id"], number)),
                ]
                started = time.perf_counter()
                for event_type, payload in events:
                    envelope = new_envelope(
                        producer="measure", event_type=event_type, subject="s", payload=payload
                    )
                    incoming = IncomingEvent(envelope, load_payload(event_type, 1, payload))
                    assert runtime.bus.handle_event(incoming) == "handled"
                if number >= args.warmup:
                    timings.append(time.perf_counter() - started)
        finally:
            runtime.engine.dispose()

    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    print(
        f"{len(timings)} contracts (2 events, 2 documents each): "
        f"mean {statistics.mean(timings) * 1000:.1f} ms, median {statistics.median(timings) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms per contract; "
        f"{'weasyprint imported' if 'weasyprint' in sys.modules else 'weasyprint not imported'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

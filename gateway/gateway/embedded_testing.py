"""Starting the embedded portal as `make run` does, for tests that drive it from outside
(the embedded-mode tests, the browser tests of whole flows)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway import processes

# The line `make run` prints once it serves (see gateway.embedded._started).
STARTED = re.compile(
    r"Bildungsportal läuft auf (?P<url>http://\S+)/ \((?P<mail>.*?)"
    r"(?:; Betrieb \(metrics, readyz\): (?P<internal>http://\S+))?; Strg\+C beendet\)"
)
SINK = re.compile(r"SMTP-Sink 127\.0\.0\.1:(?P<port>\d+)")


@dataclass
class Embedded:
    base_url: str
    data_dir: Path
    smtp_port: int | None
    process: processes.ManagedProcess
    internal_url: str | None = None
    mail: str = ""


def clean_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("BP_", "NOTIFICATIONS_", "WEB_", "IDENTITY_", "TRAINING_RECORDS_", "EXAMS_", "DOCUMENTS_")
        )
    }


def start_portal(data_dir: Path, settings: Mapping[str, str], *, timeout: float = 120) -> Embedded:
    """``python -m gateway.embedded`` as `make run` starts it, until it says where it serves."""
    port = processes.free_port()
    env = {**clean_environment(), "PORT": str(port), "BP_DATA_DIR": str(data_dir), **settings}
    process = processes.start(
        "embedded", [sys.executable, "-P", "-m", "gateway.embedded"], env=env, log_dir=data_dir / "logs"
    )
    log_path = data_dir / "logs" / "embedded.log"
    found: dict[str, re.Match[str]] = {}

    def started() -> bool:
        match = STARTED.search(log_path.read_text(errors="replace")) if log_path.exists() else None
        if match:
            found["line"] = match
        return match is not None

    try:
        processes.wait_until("the embedded portal", started, timeout=timeout, watch=[process])
    except BaseException:
        process.stop()
        raise
    line = found["line"]
    sink = SINK.search(line["mail"])
    assert line["url"] == f"http://127.0.0.1:{port}"
    return Embedded(
        line["url"], data_dir, int(sink["port"]) if sink else None, process, line["internal"], line["mail"]
    )

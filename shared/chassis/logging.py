"""JSON logs carrying the service and the request id (DESIGN §2 rule 10)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from chassis.context import actor_var, causation_id_var, request_id_var, service_var


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.causation_id = causation_id_var.get()
        record.service = service_var.get()
        record.actor = actor_var.get()
        return True


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """Idempotent: the embedded mode calls it once per service in one process."""
    root = logging.getLogger()
    if any(getattr(h, "_bildungsportal", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._bildungsportal = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(actor)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(service)s %(request_id)s] %(name)s: %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries are chatty at INFO; their warnings still come through.
    for noisy in ("amqp", "kombu", "pika", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

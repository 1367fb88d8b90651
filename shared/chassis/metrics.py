"""Prometheus metrics, defined once per process with a ``service`` label.

The embedded mode runs every service in one process, so metrics cannot be
created per app without clashing in the default registry.

Under gunicorn a service runs in several worker processes. With
``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts: prometheus_client
picks its value store at import), every process writes its values to files in
that directory and ``exposition()`` sums them, so a scrape of ``/metrics`` sees
the whole service, whichever worker answers it. The directory must be fresh and
belong to one service; ``chassis.gunicorn_config`` empties it when gunicorn
starts and clears the live gauges of each worker that exits.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "bp_http_requests_total", "HTTP requests handled", ["service", "method", "endpoint", "status"]
)
HTTP_LATENCY = Histogram("bp_http_request_duration_seconds", "HTTP request latency", ["service", "endpoint"])
EVENTS_PUBLISHED = Counter("bp_events_published_total", "Events relayed to the broker", ["service", "type"])
EVENTS_HANDLED = Counter(
    "bp_events_handled_total",
    "Events taken from the broker, by outcome (handled, duplicate, retried, dead_lettered)",
    ["service", "type", "outcome"],
)
EVENT_BATCH_SIZE = Histogram(
    "bp_event_batch_size",
    "Events applied per consumer transaction (one commit)",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
# Every relay of a service sees the same backlog: across processes the largest live value.
OUTBOX_BACKLOG = Gauge(
    "bp_outbox_backlog", "Unsent outbox rows seen by the relay", ["service"], multiprocess_mode="livemax"
)


def multiprocess_dir(env: Mapping[str, str] = os.environ) -> Path | None:
    raw = env.get(MULTIPROC_DIR_ENV, "").strip()
    return Path(raw) if raw else None


def exposition() -> bytes:
    """The text format of this service's metrics: of every process when multiprocess."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry)


def reset_multiprocess_dir() -> None:
    """Create the directory, or empty it of a former run's files (gunicorn's ``on_starting``)."""
    directory = multiprocess_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of an exited worker (gunicorn's ``child_exit``); counters stay summed."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(pid, str(directory))

"""gunicorn hooks every service runs with: ``gunicorn --config python:chassis.gunicorn_config …``.

They keep prometheus_client's multiprocess mode right (see ``chassis.metrics``)
and do nothing when ``PROMETHEUS_MULTIPROC_DIR`` is not set.
"""

from __future__ import annotations

from typing import Any

from chassis import metrics


def on_starting(server: Any) -> None:
    """In the master, before any worker: a fresh metrics directory (counters of a former run go)."""
    metrics.reset_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """In the master, after a worker exited (or was killed): its live gauges go."""
    metrics.mark_process_dead(worker.pid)

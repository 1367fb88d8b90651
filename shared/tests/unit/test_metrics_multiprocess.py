"""/metrics under gunicorn: the sum over every worker process, not the counters of one.

Real processes write to a real multiprocess directory; ``exposition()`` (what the
``/metrics`` view serves) reads them from a third process, as gunicorn's worker
that happens to answer a scrape does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chassis import gunicorn_config, metrics

WORKER = """
import sys
from chassis.metrics import HTTP_LATENCY, HTTP_REQUESTS, OUTBOX_BACKLOG
for _ in range(int(sys.argv[1])):
    HTTP_REQUESTS.labels("exams", "GET", "/sessions", "200").inc()
    HTTP_LATENCY.labels("exams", "/sessions").observe(0.01)
OUTBOX_BACKLOG.labels("exams").set(int(sys.argv[1]))
print(__import__("os").getpid())
"""


def run_worker(directory: Path, requests: int) -> int:
    env = {**os.environ, metrics.MULTIPROC_DIR_ENV: str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests)], env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


REQUESTS = (
    "bp_http_requests_total",
    (("endpoint", "/sessions"), ("method", "GET"), ("service", "exams"), ("status", "200")),
)
LATENCY_COUNT = ("bp_http_request_duration_seconds_count", (("endpoint", "/sessions"), ("service", "exams")))
BACKLOG = ("bp_outbox_backlog", (("service", "exams"),))


@pytest.fixture
def multiproc_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "metrics"
    monkeypatch.setenv(metrics.MULTIPROC_DIR_ENV, str(directory))
    gunicorn_config.on_starting(server=None)  # as gunicorn's master does before forking
    return directory


def test_a_scrape_sums_the_counters_of_every_worker(multiproc_dir: Path) -> None:
    first = run_worker(multiproc_dir, 7)
    second = run_worker(multiproc_dir, 5)
    assert first != second
    samples = scrape()
    assert samples[REQUESTS] == 12
    assert samples[LATENCY_COUNT] == 12
    assert samples[BACKLOG] == 7  # the relays all see one backlog: the largest live value

    # A worker that exits (or is killed) keeps its counts; its live gauge goes.
    gunicorn_config.child_exit(server=None, worker=type("Worker", (), {"pid": first})())
    samples = scrape()
    assert samples[REQUESTS] == 12
    assert samples[BACKLOG] == 5


def test_gunicorn_starting_again_begins_with_a_fresh_directory(multiproc_dir: Path) -> None:
    run_worker(multiproc_dir, 3)
    assert scrape()[REQUESTS] == 3
    gunicorn_config.on_starting(server=None)
    assert list(multiproc_dir.glob("*.db")) == []
    assert REQUESTS not in scrape()


def test_without_the_directory_the_process_serves_its_own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_DIR_ENV, raising=False)
    before = scrape().get(REQUESTS, 0.0)
    metrics.HTTP_REQUESTS.labels("exams", "GET", "/sessions", "200").inc()
    assert scrape()[REQUESTS] == before + 1
    gunicorn_config.on_starting(server=None)  # the hooks do nothing then
    gunicorn_config.child_exit(server=None, worker=type("Worker", (), {"pid": os.getpid()})())

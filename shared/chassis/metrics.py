"""Prometheus metrics, defined once per process with a ``service`` label.

The embedded mode runs every service in one process, so metrics cannot be
created per app without clashing in the default registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
OUTBOX_BACKLOG = Gauge("bp_outbox_backlog", "Unsent outbox rows seen by the relay", ["service"])

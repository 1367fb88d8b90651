"""The credentials rate limit of the embedded mode: nginx's ``limit_req`` in one process.

The distributed mode limits the form posts of ``LIMITED_PATHS`` in nginx (``gateway.nginx``);
the embedded mode has no nginx, so this WSGI middleware applies the same table with the same
numbers (``RATE_LIMITS``) and the same algorithm: per client address, one leaky bucket per zone
shared by every limited path, only POSTs counted, ``burst`` extra requests allowed at once
(``nodelay``), and a refused request not counted. Refused: 429 with ``Retry-After``, as a
German page where a person posted a form (identity's pages under /auth), as RFC 9457
problem+json under /api/.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.routes import LIMITED_PATHS, RATE_LIMITS, LimitedPath, RateClass, RateLimit

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_RATE = re.compile(r"(\d+)r/([sm])")
# Buckets that have drained are dropped once this many clients are tracked (nginx: a 10 MB zone).
MAX_TRACKED = 100_000

TOO_MANY_TITLE = "Too Many Requests"
TOO_MANY_DETAIL = "Too many attempts from this address; please wait a minute."

PAGE = """<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Zu viele Versuche – Bildungsportal</title></head>
<body><main>
<h1>Zu viele Versuche</h1>
<p>Von Ihrem Anschluss kamen in kurzer Zeit zu viele Anmelde- oder Passwortversuche.
Bitte warten Sie {minutes} und versuchen Sie es dann erneut.</p>
<p><a href="/">Zur Startseite</a></p>
</main></body>
</html>
"""


def per_second(rate: str) -> float:
    """nginx's rate syntax: ``10r/m`` → 1/6 per second, ``5r/s`` → 5."""
    match = _RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"not an nginx rate: {rate!r}")
    count, unit = int(match.group(1)), match.group(2)
    return count / (60.0 if unit == "m" else 1.0)


def retry_after_seconds(limit: RateLimit) -> int:
    """The longest a refused client waits for its next request to pass (1/rate, rounded up)."""
    return math.ceil(1.0 / per_second(limit.rate))


def too_many_page(retry_after: int) -> bytes:
    minutes = "eine Minute" if retry_after <= 60 else f"{math.ceil(retry_after / 60)} Minuten"
    return PAGE.format(minutes=minutes).encode()


def too_many_problem(retry_after: int) -> bytes:
    return json.dumps(
        {
            "type": "about:blank",
            "title": TOO_MANY_TITLE,
            "status": 429,
            "detail": TOO_MANY_DETAIL,
            "retry_after": retry_after,
        }
    ).encode()


class LeakyBucket:
    """nginx's ``limit_req`` with ``nodelay``: the excess drains at ``rate``; a request passes
    while its excess stays at or below ``burst``. Thread-safe; one per zone."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_second(limit.rate)
        self.burst = float(limit.burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (excess, at)

    def take(self, key: str) -> float:
        """0 if the request passes; else the seconds until one would."""
        now = self._clock()
        with self._lock:
            previous = self._state.get(key)
            if previous is None:
                if len(self._state) >= MAX_TRACKED:
                    self._drop_drained(now)
                self._state[key] = (0.0, now)
                return 0.0
            excess, at = previous
            drained = max(excess - self.rate * (now - at), 0.0)
            if drained + 1.0 > self.burst:
                return (drained + 1.0 - self.burst) / self.rate
            self._state[key] = (drained + 1.0, now)
            return 0.0

    def _drop_drained(self, now: float) -> None:
        for key, (excess, at) in list(self._state.items()):
            if excess - self.rate * (now - at) <= 0:
                del self._state[key]


@dataclass(frozen=True)
class _Limited:
    public_path: str
    rate_class: RateClass
    is_api: bool


def _limited_paths(limited: Iterable[LimitedPath]) -> list[_Limited]:
    return [
        _Limited(public_path, item.rate_class, route.prefix.startswith("/api/"))
        for item in limited
        for route, public_path in item.public_paths()
    ]


class CredentialRateLimit:
    """WSGI middleware: the credentials limit of ``LIMITED_PATHS``, keyed by the client address.

    The paths match as nginx's prefix locations do (``/auth/password`` covers
    ``/auth/password/forgotten`` and the reset links).
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        limited: Iterable[LimitedPath] = LIMITED_PATHS,
        limits: Mapping[RateClass, RateLimit] = RATE_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.paths = _limited_paths(limited)
        self.limits = dict(limits)
        self.buckets = {
            rate_class: LeakyBucket(limit, clock=clock) for rate_class, limit in self.limits.items()
        }

    def match(self, path: str) -> _Limited | None:
        folded = re.sub("/{2,}", "/", path or "/")
        for item in self.paths:
            if folded.startswith(item.public_path):
                return item
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        limited = self.match(environ.get("PATH_INFO", ""))
        if limited is None or limited.rate_class not in self.buckets:
            return self.app(environ, start_response)
        wait = self.buckets[limited.rate_class].take(environ.get("REMOTE_ADDR", ""))
        if wait <= 0:
            return self.app(environ, start_response)
        retry_after = max(1, math.ceil(wait))
        if limited.is_api:
            body, content_type = too_many_problem(retry_after), "application/problem+json"
        else:
            body, content_type = too_many_page(retry_after), "text/html; charset=utf-8"
        start_response(
            "429 TOO MANY REQUESTS",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(retry_after)),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

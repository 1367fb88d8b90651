"""One answer time for the forms whose answer must not tell who has an account.

"Passwort vergessen", "Neuen Link anfordern" and "Zugangsdaten erneut anfordern" answer alike
for every input, but behind the answer a known account costs a locked row, an update and an
outbox row, an unknown one a single read: a few milliseconds that many timed requests can
tell apart (OWASP ASVS V6.3.2). These forms therefore answer no sooner than a fixed time
after the request arrived, which is longer than the work on any path. The forms are
rate-limited at the edge, so the sleeping request holds a worker thread only rarely.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

NEUTRAL_ANSWER_SECONDS = 0.25


@contextmanager
def answer_no_sooner_than(seconds: float = NEUTRAL_ANSWER_SECONDS) -> Iterator[None]:
    """Run the block; then wait until ``seconds`` have passed since it began (errors too)."""
    started = time.monotonic()
    try:
        yield
    finally:
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)

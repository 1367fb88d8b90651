"""Hearing about new mails committed by another process: LISTEN/NOTIFY on PostgreSQL.

The unit of work sends ``NOTIFY notifications_mails`` in the transaction that
queues a mail (so it is heard only if the mail row lands); the mail sender's
listener wakes the sender at once instead of at its next poll. SQLite (the
embedded mode) has no such thing; there one process does everything and an
in-process event does the job.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

MAIL_CHANNEL = "notifications_mails"


def start_mail_listener(
    engine: Engine, wakeup: threading.Event, stop: threading.Event, *, name: str
) -> threading.Thread | None:
    """On PostgreSQL, a daemon thread that sets ``wakeup`` on every notice until ``stop``; else None."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def listen() -> None:
        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {MAIL_CHANNEL}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            wakeup.set()
            except Exception:  # polling covers the gap until LISTEN is back
                log.info("mail LISTEN connection lost; polling until it is back", exc_info=True)
                stop.wait(2.0)

    thread = threading.Thread(target=listen, name=name, daemon=True)
    thread.start()
    return thread

"""The outbox relay: publishes committed events with confirms, then marks them sent.

Claims rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several relays can
run side by side; never tracks a high-water mark. Woken by NOTIFY (or, in one
process, by the unit of work directly) with a poll as fallback. At-least-once:
a crash between publish and commit republishes, and consumers' inboxes drop the
duplicate.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from chassis.events.bus import EventBus, Publisher
from chassis.events.catalogue import redact_secrets
from chassis.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from chassis.uow import OutboxWakeup, notify_channel

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        service_name: str,
        engine: Engine,
        outbox: sa.Table,
        bus: EventBus,
        wakeup: OutboxWakeup | None = None,
        batch_size: int = 200,
        poll_interval: float = 1.0,
    ) -> None:
        self.service_name = service_name
        self.engine = engine
        self.outbox = outbox
        self.publisher = Publisher(bus)
        self.wakeup = wakeup or OutboxWakeup()
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._declared: set[str] = set()

    def relay_batch(self) -> int:
        """Publish one batch of unsent events; returns how many were sent."""
        c = self.outbox.c
        stmt = (
            sa.select(c.position, c.event_id, c.event_type, c.body, c.headers)
            .where(c.sent_at.is_(None))
            .order_by(c.position)
            .limit(self.batch_size)
        )
        if self.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
            if not rows:
                OUTBOX_BACKLOG.labels(self.service_name).set(0)
                return 0
            for row in rows:
                if row.event_type not in self._declared:
                    self.publisher.declare_for_event(row.event_type)
                    self._declared.add(row.event_type)
                headers = row.headers if isinstance(row.headers, dict) else json.loads(row.headers)
                self.publisher.publish(
                    row.body, routing_key=row.event_type, message_id=row.event_id, headers=headers
                )
                EVENTS_PUBLISHED.labels(self.service_name, row.event_type).inc()
            sent_at = datetime.now(UTC)
            conn.execute(
                sa.update(self.outbox)
                .where(c.position.in_([r.position for r in rows]))
                .values(sent_at=sent_at)
            )
            # One-time secrets (the activation code) went to the broker once; the
            # producer's database keeps no readable copy of them.
            redacted = [
                {"row_position": row.position, "redacted_body": body}
                for row in rows
                if (body := redact_secrets(row.event_type, row.body)) is not None
            ]
            if redacted:
                conn.execute(
                    sa.update(self.outbox)
                    .where(c.position == sa.bindparam("row_position"))
                    .values(body=sa.bindparam("redacted_body")),
                    redacted,
                )
        OUTBOX_BACKLOG.labels(self.service_name).set(len(rows))
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        listener = self._start_listener(stop)
        backoff = 0.5
        while not stop.is_set():
            self.wakeup.clear()
            try:
                sent = self.relay_batch()
                backoff = 0.5
            except Exception:
                log.warning("outbox relay failed; retrying in %.1fs", backoff, exc_info=True)
                self.publisher.close()
                self._declared.clear()
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
                continue
            if sent < self.batch_size:
                self.wakeup.wait(self.poll_interval)
        self.publisher.close()
        if listener is not None:
            listener.join(timeout=2)

    def _start_listener(self, stop: threading.Event) -> threading.Thread | None:
        if self.engine.dialect.name != "postgresql":
            return None
        thread = threading.Thread(
            target=self._listen, args=(stop,), name=f"{self.service_name}-outbox-listen", daemon=True
        )
        thread.start()
        return thread

    def _listen(self, stop: threading.Event) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        channel = notify_channel(self.service_name)
        while not stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {channel}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wakeup.set()
            except Exception:
                log.info("outbox LISTEN connection lost; polling until it is back", exc_info=True)
                stop.wait(2.0)

"""Retention of outbox/inbox rows, and the inbox row committing with the handler's effects (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.events.retention import RetentionWorker
from chassis.testing.samples import contract_registered_payload


def test_retention_deletes_old_sent_and_handled_rows_and_keeps_the_rest(
    make_harness: Any, database_url: str
) -> None:
    harness = make_harness(database_url, "memory://")
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    with harness.engine.begin() as conn:
        for position, (sent_at, created) in enumerate([(old, old), (recent, recent), (None, old)], start=1):
            conn.execute(
                sa.insert(harness.outbox).values(
                    event_id=f"00000000-0000-0000-0000-00000000000{position}",
                    event_type="t",
                    body="{}",
                    headers={},
                    created_at=created,
                    sent_at=sent_at,
                )
            )
        for n, handled_at in enumerate([old, old, recent]):
            conn.execute(
                sa.insert(harness.inbox).values(
                    consumer="c", event_id=f"e{n}", event_type="t", handled_at=handled_at
                )
            )
    worker = RetentionWorker(harness.engine, harness.outbox, harness.inbox, days=30)
    assert worker.run_once(now) == (1, 2)
    with harness.engine.connect() as conn:
        outbox = conn.execute(sa.select(harness.outbox.c.sent_at)).scalars().all()
        inbox = conn.execute(sa.select(harness.inbox.c.event_id)).scalars().all()
    assert len(outbox) == 2 and None in outbox  # the unsent row is never deleted
    assert inbox == ["e2"]


def test_a_failing_handler_leaves_no_inbox_row_and_no_effects(make_harness: Any, database_url: str) -> None:
    from chassis.events.catalogue import load_payload
    from chassis.events.envelope import new_envelope
    from chassis.events.incoming import IncomingEvent

    harness = make_harness(database_url, "memory://")
    payload = contract_registered_payload()
    envelope = new_envelope(
        producer="training-records", event_type=harness.event, subject="s", payload=payload
    )
    event = IncomingEvent(envelope, load_payload(harness.event, 1, payload))
    harness.fail_times = 1
    bus = harness.messagebus()
    with pytest.raises(RuntimeError):
        bus.handle_event(event)
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar() == 0
    assert harness.seen_ids() == set()
    assert bus.handle_event(event) == "handled"
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar() == 1
    assert harness.seen_ids() == {payload["contract_id"]}
    assert bus.handle_event(event) == "duplicate"

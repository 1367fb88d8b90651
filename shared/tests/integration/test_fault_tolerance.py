"""Faults in the middle of a flow lose nothing and apply nothing twice (DESIGN §5).

A RabbitMQ restart, a PostgreSQL restart and a consumer that dies between
committing and acking, each while events are in flight. These tests restart the
servers they run against, so they control them with the local commands
(``rabbitmqctl``, ``pg_ctlcluster``); without those the run fails, it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.events import dlq
from chassis.events.consumer import Delivery, EventConsumer
from chassis.metrics import EVENTS_HANDLED
from chassis.testing.infrastructure import check_postgres, check_rabbitmq
from chassis.testing.waiting import wait_until


def _command(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is needed to restart the local server in this test", pytrace=False)
    return path


def restart_rabbitmq_around(action: Callable[[], Any], amqp_url: str) -> Any:
    """Stop the RabbitMQ application, run ``action`` while it is down, start it again."""
    ctl = _command("rabbitmqctl")
    subprocess.run([ctl, "stop_app"], check=True, capture_output=True, timeout=120)
    try:
        return action()
    finally:
        subprocess.run([ctl, "start_app"], check=True, capture_output=True, timeout=120)
        wait_until(lambda: _reachable(check_rabbitmq, amqp_url), 120, "RabbitMQ back")


def restart_postgres(admin_url: str) -> None:
    ctl = _command("pg_ctlcluster")
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [ctl, "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wait_until(lambda: _reachable(check_postgres, admin_url), 60, "PostgreSQL back")


def _reachable(check: Callable[[str], None], url: str) -> bool:
    try:
        check(url)
    except Exception:  # noqa: BLE001 - not yet
        return False
    return True


def counts(harness: Any) -> tuple[int, int, int]:
    """(contracts seen, inbox rows, unsent outbox rows)."""
    with harness.engine.connect() as conn:
        seen = conn.execute(sa.select(sa.func.count()).select_from(harness.seen)).scalar_one()
        inbox = conn.execute(sa.select(sa.func.count()).select_from(harness.inbox)).scalar_one()
        unsent = conn.execute(
            sa.select(sa.func.count()).where(harness.outbox.c.sent_at.is_(None))
        ).scalar_one()
    return seen, inbox, unsent


def emit_until_committed(harness: Any) -> str:
    """Emit like a request handler whose client retries after a 503."""
    return _retrying(harness.emit)


def _retrying(action: Callable[[], str]) -> str:
    result: list[str] = []

    def attempt() -> bool:
        try:
            result.append(action())
        except sa.exc.OperationalError:
            return False
        return True

    wait_until(attempt, 60, "a commit after the database came back", interval=0.5)
    return result[0]


def test_broker_restart_mid_flow(make_harness: Callable[..., Any], database_url: str, amqp_url: str) -> None:
    harness = make_harness(database_url, amqp_url)
    harness.start()
    before = {harness.emit() for _ in range(15)}
    # Stop the broker while those are on their way; commits go on meanwhile.
    during = restart_rabbitmq_around(lambda: {harness.emit() for _ in range(15)}, amqp_url)
    after = {harness.emit() for _ in range(15)}
    every = before | during | after
    wait_until(lambda: harness.seen_ids() == every, 180, "every event handled after the broker restart")
    assert counts(harness) == (45, 45, 0)


def test_database_restart_mid_flow(
    make_harness: Callable[..., Any], database_url: str, amqp_url: str, postgres_admin_url: str
) -> None:
    harness = make_harness(database_url, amqp_url)
    harness.handling_time = 0.3  # work in flight when the database goes
    harness.start()
    before = {harness.emit() for _ in range(8)}
    wait_until(lambda: len(harness.seen_ids()) >= 1, 30, "handling under way")
    restart_postgres(postgres_admin_url)
    after = {emit_until_committed(harness) for _ in range(10)}
    every = before | after
    wait_until(lambda: harness.seen_ids() == every, 180, "every event handled after the database restart")
    assert counts(harness) == (18, 18, 0)


class DiesBeforeAck(EventConsumer):
    """A consumer process killed right after its batch's transaction committed, before the ack.

    After that moment it handles and acks nothing more, as a dead process would; its
    unacked messages go back to the queue when its connection goes.
    """

    died = False

    def flush(self) -> None:
        if self.died:
            self._pending = []  # taken, never settled
            return
        super().flush()

    def _ack(self, deliveries: Sequence[Delivery], *, multiple: bool) -> None:
        self.died = True  # killed instead of acking


def duplicates_counted(harness: Any) -> float:
    return float(EVENTS_HANDLED.labels(harness.consumer_name, harness.event, "duplicate")._value.get())


def test_consumer_killed_between_commit_and_ack(
    make_harness: Callable[..., Any], database_url: str, amqp_url: str
) -> None:
    harness = make_harness(database_url, amqp_url)
    dying = DiesBeforeAck(bus=harness.bus, messagebus=harness.messagebus())
    dying.declare()
    ids = {harness.emit() for _ in range(10)}
    harness.relay_all()

    harness.run(dying.run_until)
    wait_until(lambda: dying.died, 30, "the consumer's death")
    harness.stop_threads()  # the dead process's connection goes: the broker requeues
    applied, recorded, _ = counts(harness)
    assert applied >= 1 and applied == recorded  # its first batch committed, the acks never sent

    duplicates_before = duplicates_counted(harness)
    harness.start()
    wait_until(lambda: harness.seen_ids() == ids, 60, "every event handled by the next consumer")
    assert counts(harness) == (10, 10, 0)
    # Each event the dead consumer applied came back and was recognised, not applied again.
    wait_until(lambda: duplicates_counted(harness) - duplicates_before == applied, 10, "the duplicates")


class Killed(BaseException):
    """The consumer process dies (not an error a handler could catch or the bus could report)."""


def test_consumer_killed_before_its_batch_commits(
    make_harness: Callable[..., Any], database_url: str, amqp_url: str
) -> None:
    harness = make_harness(database_url, amqp_url)
    ids = [harness.emit() for _ in range(10)]
    harness.relay_all()
    handled_in_dying_batch: list[str] = []

    def die_at_the_last(uow: Any, contract_id: str) -> None:
        handled_in_dying_batch.append(contract_id)
        if len(handled_in_dying_batch) == 10:
            raise Killed  # nine events applied in the open transaction, none committed

    harness.during_handling = die_at_the_last
    dying = harness.consumer(batch_size=10, batch_wait=5.0, batch_idle=5.0)
    dying.declare()
    ended = threading.Event()

    def run(stop: threading.Event) -> None:
        try:
            dying.run_until(stop)
        except Killed:
            ended.set()  # the process is gone, and with it its connections

    harness.run(run)
    wait_until(ended.is_set, 30, "the consumer's death")
    assert counts(harness)[:2] == (0, 0)  # nothing of the batch committed

    harness.during_handling = None
    duplicates_before = duplicates_counted(harness)
    harness.stop_threads()
    harness.start()
    wait_until(lambda: harness.seen_ids() == set(ids), 60, "every event handled by the next consumer")
    assert counts(harness) == (10, 10, 0)
    assert duplicates_counted(harness) == duplicates_before  # redelivered, but never applied before


def test_a_database_connection_lost_before_the_batch_commits(
    make_harness: Callable[..., Any], database_url: str, amqp_url: str
) -> None:
    """The batch's connection drops mid-batch: nothing of it commits, and each event is applied once later."""
    harness = make_harness(database_url, amqp_url)
    ids = [harness.emit() for _ in range(10)]
    harness.relay_all()
    dropped: list[str] = []

    def drop_the_connection_once(uow: Any, contract_id: str) -> None:
        if len(dropped) < 1 and contract_id == ids[5]:
            dropped.append(contract_id)
            uow.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    harness.during_handling = drop_the_connection_once
    harness.run(harness.consumer(batch_size=10, batch_wait=5.0, batch_idle=5.0).run_until)
    wait_until(
        lambda: harness.seen_ids() == set(ids), 60, "every event handled after the connection came back"
    )
    assert dropped == [ids[5]]
    assert counts(harness) == (10, 10, 0)  # the seen table's key would have refused a second application
    queue = harness.bus.queue_name(harness.consumer_name, harness.event)
    assert dlq.inspect(harness.bus, queue) == []  # an unreachable database is not the events' fault

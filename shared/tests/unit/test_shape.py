"""The chassis' shape: message bus and inbox, pagination, fakes, UTC datetimes (no servers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.contracts.training import ContractRegistered
from chassis.db import UtcDateTime, make_engine, new_metadata
from chassis.domain import Forbidden, RuleViolation
from chassis.events.catalogue import dump_payload, load_payload
from chassis.events.envelope import new_envelope
from chassis.events.incoming import IncomingEvent
from chassis.messagebus import MessageBus, NoHandler, inject_dependencies, own_transaction
from chassis.messages import Command
from chassis.pagination import PageRequest, SortKey, decode_cursor, encode_cursor, paginate_in_memory
from chassis.testing.fakes import FakeRepository, FakeUnitOfWork
from chassis.testing.samples import contract_registered_payload


def incoming(payload: dict[str, Any] | None = None) -> IncomingEvent[ContractRegistered]:
    payload = payload or contract_registered_payload()
    envelope = new_envelope(
        producer="training-records",
        event_type=ContractRegistered.TYPE,
        subject=payload["contract_id"],
        payload=payload,
    )
    return IncomingEvent(envelope, load_payload(envelope.type, 1, payload))  # type: ignore[arg-type]


# -- typed payloads ----------------------------------------------------------------------


def test_payloads_load_typed_and_dump_back_unchanged() -> None:
    payload = contract_registered_payload()
    typed = load_payload(ContractRegistered.TYPE, 1, payload)
    assert isinstance(typed, ContractRegistered)
    assert isinstance(typed.contract_id, uuid.UUID)
    assert typed.company.company_number == payload["company"]["company_number"]
    assert dump_payload(typed) == payload


# -- message bus -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rename(Command):
    name: str


def test_commands_reach_their_one_handler_with_a_unit_of_work() -> None:
    uow = FakeUnitOfWork()

    def rename(cmd: Rename, uow: FakeUnitOfWork) -> str:
        with uow:
            uow.commit()
        return cmd.name.upper()

    bus = MessageBus(lambda: uow, consumer_name="x", command_handlers={Rename: rename})  # type: ignore[arg-type, return-value, dict-item]
    assert bus.handle(Rename("a")) == "A"
    assert uow.commits == 1


def test_a_command_without_handler_is_an_error() -> None:
    bus: MessageBus[Any] = MessageBus(FakeUnitOfWork, consumer_name="x")
    with pytest.raises(NoHandler):
        bus.handle(Rename("a"))


def test_the_inbox_row_joins_the_handlers_commit_and_a_redelivery_changes_nothing() -> None:
    uow = FakeUnitOfWork(seen=FakeRepository[str](key=lambda s: s))
    calls = []

    def handler(event: IncomingEvent[ContractRegistered], uow: Any) -> None:
        calls.append(event.id)
        with uow:
            uow.seen.add(str(event.payload.contract_id))
            uow.commit()

    bus = MessageBus(lambda: uow, consumer_name="exams", event_handlers={ContractRegistered.TYPE: handler})  # type: ignore[arg-type, return-value]
    event = incoming()
    assert bus.handle_event(event) == "handled"
    assert ("exams", event.id) in uow.handled
    assert uow.commits == 1  # effects and inbox row: one commit
    assert bus.handle_event(event) == "duplicate"
    assert calls == [event.id]


def test_a_handler_that_changes_nothing_still_records_the_event() -> None:
    uow = FakeUnitOfWork()
    bus = MessageBus(
        lambda: uow,  # type: ignore[arg-type, return-value]
        consumer_name="exams",
        event_handlers={ContractRegistered.TYPE: lambda event, uow: None},
    )
    event = incoming()
    bus.handle_event(event)
    assert ("exams", event.id) in uow.handled


def test_a_failing_handler_records_nothing() -> None:
    uow = FakeUnitOfWork()

    def handler(event: Any, uow: Any) -> None:
        with uow:
            raise Forbidden("no")

    bus = MessageBus(lambda: uow, consumer_name="exams", event_handlers={ContractRegistered.TYPE: handler})  # type: ignore[arg-type, return-value]
    event = incoming()
    with pytest.raises(Forbidden):
        bus.handle_event(event)
    assert uow.handled == set()


def recording_bus(uow: FakeUnitOfWork, handler: Any) -> MessageBus[Any]:
    return MessageBus(lambda: uow, consumer_name="exams", event_handlers={ContractRegistered.TYPE: handler})  # type: ignore[arg-type, return-value]


def emitting_handler(calls: list[str], failing: frozenset[str] = frozenset()) -> Any:
    def handler(event: IncomingEvent[ContractRegistered], uow: Any) -> None:
        calls.append(event.id)
        with uow:
            uow.emit(event.payload, subject=event.envelope.subject)
            if event.id in failing:
                raise RuntimeError("cannot")
            uow.commit()

    return handler


def test_a_batch_of_events_commits_once_with_their_inbox_rows_and_emitted_events() -> None:
    uow = FakeUnitOfWork()
    calls: list[str] = []
    bus = recording_bus(uow, emitting_handler(calls))
    events = [incoming() for _ in range(3)]
    assert bus.handle_events(events) == ["handled"] * 3
    assert uow.batch_commits == 1
    assert uow.commits == 3  # each handler's commit (a savepoint of the batch)
    assert uow.handled == {("exams", e.id) for e in events}
    assert [e.subject for e in uow.events] == [e.envelope.subject for e in events]


def test_a_failing_event_of_a_batch_loses_only_itself() -> None:
    uow = FakeUnitOfWork()
    calls: list[str] = []
    events = [incoming() for _ in range(3)]
    bus = recording_bus(uow, emitting_handler(calls, failing=frozenset({events[1].id})))
    results = bus.handle_events(events)
    assert results[0] == "handled" and results[2] == "handled"
    assert isinstance(results[1], RuntimeError)
    assert uow.batch_commits == 1
    assert uow.handled == {("exams", events[0].id), ("exams", events[2].id)}
    assert len(uow.events) == 2  # the failing handler's event never left


def test_a_redelivered_batch_and_a_duplicate_within_a_batch_apply_nothing_twice() -> None:
    uow = FakeUnitOfWork()
    calls: list[str] = []
    bus = recording_bus(uow, emitting_handler(calls))
    events = [incoming() for _ in range(2)]
    bus.handle_events(events)
    again = incoming()
    assert bus.handle_events([*events, again, again]) == ["duplicate", "duplicate", "handled", "duplicate"]
    assert calls == [events[0].id, events[1].id, again.id]
    assert len(uow.events) == 3 and uow.batch_commits == 2


def test_an_unreachable_database_fails_the_whole_batch() -> None:
    from sqlalchemy.exc import OperationalError

    uow = FakeUnitOfWork()
    events = [incoming() for _ in range(3)]

    def handler(event: Any, uow: Any) -> None:
        with uow:
            if event.id == events[1].id:
                raise OperationalError("SELECT 1", {}, Exception("connection refused"))
            uow.commit()

    results = recording_bus(uow, handler).handle_events(events)
    assert all(isinstance(r, OperationalError) for r in results)
    assert uow.handled == set() and uow.batch_commits == 0


def test_a_batch_that_fails_to_commit_is_handled_again_one_by_one() -> None:
    uow = FakeUnitOfWork()
    calls: list[str] = []
    bus = recording_bus(uow, emitting_handler(calls))
    events = [incoming() for _ in range(3)]
    uow.fail_batch_commit = RuntimeError("deferred constraint")
    assert bus.handle_events(events) == ["handled"] * 3
    assert uow.batch_commits == 3  # the failed batch, then each event alone
    assert calls == [e.id for e in events] * 2
    assert len(uow.events) == 3  # the failed batch's events were never committed


def test_a_handler_registered_own_transaction_keeps_its_mark_and_commits_alone() -> None:
    uow = FakeUnitOfWork()
    calls: list[str] = []

    def slow(event: Any, uow: Any, *, renderer: str) -> None:
        calls.append(event.id)
        with uow:
            uow.commit()

    handlers = inject_dependencies({ContractRegistered.TYPE: own_transaction(slow)}, {"renderer": "pdf"})
    bus = MessageBus(lambda: uow, consumer_name="documents", event_handlers=handlers)  # type: ignore[arg-type, return-value]
    assert not bus.batches(ContractRegistered.TYPE)
    events = [incoming() for _ in range(2)]
    assert bus.handle_events(events) == ["handled", "handled"]
    assert uow.batch_commits == 0 and uow.commits == 2
    assert bus.handle_event(events[0]) == "duplicate"  # stopped at its `with uow:` (AlreadyHandled)
    assert uow.handled == {("documents", e.id) for e in events}
    assert calls == [events[0].id, events[1].id, events[0].id]


def test_a_handler_that_commits_and_then_fails_keeps_its_effects_recorded() -> None:
    uow = FakeUnitOfWork()

    def handler(event: Any, uow: Any) -> None:
        with uow:
            uow.emit(event.payload, subject="s")
            uow.commit()
        raise RuntimeError("after the commit")

    event = incoming()
    [result] = recording_bus(uow, handler).handle_events([event])
    assert isinstance(result, RuntimeError)
    # As in a transaction of its own: what it committed landed, with the inbox row.
    assert ("exams", event.id) in uow.handled and len(uow.events) == 1


def test_the_fake_unit_of_work_keeps_only_committed_events() -> None:
    uow = FakeUnitOfWork()
    typed = load_payload(ContractRegistered.TYPE, 1, contract_registered_payload())
    with uow:
        uow.emit(typed, subject="a")
    assert uow.events == []
    with uow:
        uow.emit(typed, subject="b")
        uow.commit()
    assert [e.subject for e in uow.events] == ["b"]


# -- pagination ------------------------------------------------------------------------


@dataclass
class Row:
    id: int
    day: date
    name: str


ROWS = [Row(i, date(2026, 1, 1) + timedelta(days=i % 4), f"n{i % 3}") for i in range(23)]
ORDER = (SortKey("day", descending=True), SortKey("name"), SortKey("id"))


def expected_order(rows: list[Row]) -> list[int]:
    return [r.id for r in sorted(rows, key=lambda r: (-r.day.toordinal(), r.name, r.id))]


@pytest.mark.parametrize("limit", [1, 4, 7, 23, 100])
def test_in_memory_pages_walk_the_whole_order_once(limit: int) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        page = paginate_in_memory(ROWS, ORDER, PageRequest(cursor=cursor, limit=limit))
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected_order(ROWS)


def test_cursors_carry_typed_values_and_refuse_foreign_text() -> None:
    key = (date(2026, 1, 2), "x", 3, uuid.UUID(int=5), datetime(2026, 1, 1, tzinfo=UTC))
    assert decode_cursor(encode_cursor(key), 5) == key
    foreign = [
        ("nonsense!", 1),
        (encode_cursor((1, 2)), 3),
        ("A" * 600, 1),
        ("eyJ6eiI6MX0", 1),
        ("W3siZHQiOjF9XQ", 1),
    ]
    for bad, width in foreign:
        with pytest.raises(RuleViolation) as raised:
            decode_cursor(bad, width)
        assert ("cursor",) in raised.value.errors


def test_limits_out_of_range_are_rule_violations() -> None:
    for limit in (0, 101):
        with pytest.raises(RuleViolation):
            PageRequest(limit=limit)


@pytest.mark.parametrize("limit", [1, 5, 23])
def test_sql_keyset_pages_match_the_in_memory_order(tmp_path: Any, limit: int) -> None:
    from sqlalchemy.orm import Session, registry

    from chassis.repository import keyset_page

    metadata = new_metadata()
    table = sa.Table(
        "rows",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date),
        sa.Column("name", sa.String(10)),
    )

    class Mapped:
        id: int
        day: date
        name: str

    registry(metadata=metadata).map_imperatively(Mapped, table)
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), [{"id": r.id, "day": r.day, "name": r.name} for r in ROWS])
    seen: list[int] = []
    cursor = None
    with Session(engine) as session:
        while True:
            page = keyset_page(session, sa.select(Mapped), ORDER, PageRequest(cursor=cursor, limit=limit))
            seen += [r.id for r in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == expected_order(ROWS)


# -- UTC datetimes ---------------------------------------------------------------------


def test_utc_datetime_reads_back_aware_utc_on_sqlite(tmp_path: Any) -> None:
    metadata = new_metadata()
    table = sa.Table(
        "t", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime())
    )
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    metadata.create_all(engine)
    berlin = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as conn:
        conn.execute(sa.insert(table).values(id=1, at=berlin))
        stored = conn.execute(sa.select(table.c.at)).scalar_one()
    assert stored == berlin and stored.tzinfo == UTC
    with pytest.raises(sa.exc.StatementError), engine.begin() as conn:
        conn.execute(sa.insert(table).values(id=2, at=datetime(2026, 6, 1, 12, 0)))


def test_constraints_are_named_by_one_convention() -> None:
    metadata = new_metadata()
    table = sa.Table(
        "things",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(5), unique=True),
    )
    from sqlalchemy.schema import CreateTable

    ddl = str(CreateTable(table).compile(make_engine("sqlite://")))
    assert "pk_things" in ddl and "uq_things_code" in ddl

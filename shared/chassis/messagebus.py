"""One dispatch path for commands, queries and integration events (cosmicpython ch. 9–13).

The API calls ``runtime.bus.handle(SomeCommand(...))``; the event consumer calls
``runtime.bus.handle_events(incoming_events)`` (``handle_event`` for one). Either
way a handler is called as

    handler(message, uow)

with a fresh unit of work, and dependencies (clock, hasher, renderer, …) are
bound as keyword arguments by the service's bootstrap (``functools.partial``).
Every handler owns its unit of work: it opens it, and commits it if it changes
anything.

Events are applied in batches: one transaction for the batch, one inbox row per
event and the outbox rows of what the handlers emitted written in that transaction,
one commit. The bus first applies a batch without savepoints (a handler's commit only
flushes); if a handler fails or leaves its unit of work uncommitted, that try is rolled
back and the batch applied again with the handler's ``with uow:`` a savepoint in it
(``SqlAlchemyUnitOfWork.join``), so that only the failing event is undone. The inbox key is the dedupe: the
bus first writes the batch's inbox rows in the batch's transaction (``EventBatch.claim``,
one statement; a row that is there already is not written again) and does not call the
handler for an event whose row was there; a failed event's row is removed before the
commit. A concurrent delivery of an event of the batch waits at its own claim until the
batch has ended, and then finds it handled (or claims it, if the batch rolled back); if
the batch fails to commit for another reason, its events are handled one by one.
A handler that does slow work outside its ``with uow:``
(rendering, hashing) would hold the batch's transaction and locks open
meanwhile; it is registered with ``own_transaction(handler)`` and runs in a
transaction of its own, its inbox row joining its commit (``join_inbox``).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from chassis.context import actor_var, causation_id_var, request_id_var
from chassis.errors import is_unavailable
from chassis.events.incoming import IncomingEvent
from chassis.messages import Command, Query
from chassis.metrics import EVENT_BATCH_SIZE
from chassis.uow import AlreadyHandled, EventBatch, SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)

U = TypeVar("U", bound=SqlAlchemyUnitOfWork)

CommandHandler = Callable[[Any, U], Any]
EventHandler = Callable[[IncomingEvent[Any], U], None]
Outcome = Literal["handled", "duplicate"]
# What became of one event of a batch: an outcome, or the exception its handling raised.
Result = Outcome | Exception


class NoHandler(LookupError):
    pass


class _NeedsSavepoints(Exception):
    """A handler of a batch applied without savepoints failed, or left its unit of work
    uncommitted: the try is rolled back and the batch applied again with savepoints.

    ``event_id`` and ``failure``: the event whose handler failed before committing anything,
    and how. In the second try that is its result, and its handler is not called again (with a
    savepoint it would have ended the same: nothing of it kept, the failure reported)."""

    def __init__(self, event_id: str | None = None, failure: Exception | None = None) -> None:
        super().__init__(event_id)
        self.event_id = event_id
        self.failure = failure


@dataclass(frozen=True)
class OwnTransaction:
    """An event handler that the bus never puts in a batch (``own_transaction``)."""

    handler: Callable[..., None]

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.handler(*args, **kwargs)

    @property
    def __name__(self) -> str:
        return getattr(self.handler, "__name__", repr(self.handler))


def own_transaction(handler: Callable[..., None]) -> OwnTransaction:
    """Register an event handler to run in a transaction of its own, never in a batch.

    For handlers that do slow work outside their ``with uow:`` (a PDF rendering, a
    password hash): in a batch that work would run while the batch's transaction,
    and the locks earlier events of the batch took, stay open.

        EVENT_HANDLERS = {ContractRegistered.TYPE: own_transaction(contract_registered)}
    """
    return handler if isinstance(handler, OwnTransaction) else OwnTransaction(handler)


K = TypeVar("K")


@dataclass(frozen=True)
class UseCases:
    """A service's handlers, merged from its use-case modules (``collect_use_cases``)."""

    command_handlers: Mapping[type[Command | Query], Callable[..., Any]]
    event_handlers: Mapping[str, Callable[..., Any]]


def collect_use_cases(modules: Sequence[ModuleType]) -> UseCases:
    """The ``COMMAND_HANDLERS`` and ``EVENT_HANDLERS`` of a service's use-case modules, merged.

    A service keeps its use cases in one module per area (``service_layer/handlers.py``,
    ``service_layer/importing.py``, ...), each declaring the two maps (an area without
    commands or events declares an empty one); its bootstrap names them in ``USE_CASES``. A
    message handled in two modules stops the start: merging dicts would silently drop one.
    """
    commands: dict[type[Command | Query], Callable[..., Any]] = {}
    events: dict[str, Callable[..., Any]] = {}
    for module in modules:
        for merged, declared in (
            (commands, module.COMMAND_HANDLERS),
            (events, module.EVENT_HANDLERS),
        ):
            twice = set(merged).intersection(declared)
            if twice:
                raise TypeError(f"{module.__name__} handles {sorted(map(str, twice))} again")
            merged.update(declared)
    return UseCases(commands, events)


def inject_dependencies(
    handlers: Mapping[K, Callable[..., Any]], dependencies: Mapping[str, Any]
) -> dict[K, Callable[..., Any]]:
    """Each handler with the keyword-only dependencies it declares bound (cosmicpython ch. 13).

    ``def register(cmd, uow, *, clock)`` gets ``functools.partial(register, clock=...)``.
    A handler that names a dependency the bootstrap does not provide stops the start.
    An ``own_transaction`` registration keeps its mark.
    """
    return {key: _inject(handler, dependencies) for key, handler in handlers.items()}


def _inject(handler: Callable[..., Any], dependencies: Mapping[str, Any]) -> Callable[..., Any]:
    if isinstance(handler, OwnTransaction):
        return OwnTransaction(_inject(handler.handler, dependencies))
    parameters = inspect.signature(handler).parameters.values()
    keyword_only = [p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    wanted = {p.name for p in keyword_only if p.name in dependencies}
    missing = {p.name for p in keyword_only if p.default is inspect.Parameter.empty} - wanted
    if missing:
        name = getattr(handler, "__name__", repr(handler))
        raise TypeError(f"{name} needs {sorted(missing)}, which the bootstrap does not provide")
    return functools.partial(handler, **{name: dependencies[name] for name in wanted}) if wanted else handler


class MessageBus(Generic[U]):
    def __init__(
        self,
        uow_factory: Callable[[], U],
        *,
        consumer_name: str,
        command_handlers: Mapping[type[Command | Query], CommandHandler[U]] | None = None,
        event_handlers: Mapping[str, EventHandler[U]] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.consumer_name = consumer_name
        self.command_handlers = dict(command_handlers or {})
        self.event_handlers = dict(event_handlers or {})

    @property
    def subscribed_event_types(self) -> list[str]:
        return list(self.event_handlers)

    def batches(self, event_type: str) -> bool:
        """Whether events of this type are applied in batches (not registered ``own_transaction``)."""
        return not isinstance(self.event_handlers.get(event_type), OwnTransaction)

    def handle(self, message: Command | Query) -> Any:
        """Run the one handler of a command or query and return what it returns."""
        try:
            handler = self.command_handlers[type(message)]
        except KeyError:
            raise NoHandler(f"no handler for {type(message).__name__}") from None
        return handler(message, self.uow_factory())

    # -- events ------------------------------------------------------------------------------
    def handle_event(self, event: IncomingEvent[Any]) -> Outcome:
        """Apply one integration event once: its effects and the inbox row commit together."""
        [result] = self.handle_events([event])
        if isinstance(result, Exception):
            raise result
        return result

    def handle_events(self, events: Sequence[IncomingEvent[Any]]) -> list[Result]:
        """Apply events in order, each once; one result per event, failures returned, not raised.

        Consecutive events whose handlers batch share one transaction and one commit;
        an ``own_transaction`` handler's event is applied on its own. A failing event
        rolls back only its own changes (its handler's savepoint); the others commit.
        If the batch's database is unreachable, nothing of the batch commits and every
        event of it gets that error. If the batch fails to commit for another reason,
        its events are handled again one by one, so only the culprit fails.
        """
        results: list[Result] = []
        run: list[IncomingEvent[Any]] = []
        for event in events:
            if self.batches(event.envelope.type):
                run.append(event)
                continue
            results += self._apply_together(run)
            run = []
            results.append(self._apply_alone(event))
        results += self._apply_together(run)
        return results

    def _handler(self, event: IncomingEvent[Any]) -> EventHandler[U]:
        try:
            return self.event_handlers[event.envelope.type]
        except KeyError:
            raise NoHandler(f"{self.consumer_name} has no handler for {event.envelope.type}") from None

    def _apply_together(self, events: Sequence[IncomingEvent[Any]]) -> list[Result]:
        if not events:
            return []
        try:
            return self._run_batch(events)
        except Exception as exc:  # noqa: BLE001 - the batch did not commit; see below
            if len(events) > 1 and not is_unavailable(exc):
                log.warning(
                    "a batch of %d events failed to commit (%r); handling them one by one", len(events), exc
                )
                return [result for event in events for result in self._apply_together([event])]
            if isinstance(exc, IntegrityError) and self._recorded_or_unknown(events[0]):
                return ["duplicate"]  # a concurrent delivery of the same event won the inbox row
            return [exc] * len(events)

    def _run_batch(self, events: Sequence[IncomingEvent[Any]]) -> list[Result]:
        """One transaction for ``events``; raises (nothing committed) if the batch cannot commit.

        First without savepoints: in the usual case every handler commits, and each event saves
        the round trips of its savepoint. Otherwise again with a savepoint per handler."""
        try:
            return self._run_batch_with(events, savepoints=False)
        except _NeedsSavepoints as first_try:
            failed = {}
            if first_try.event_id is not None and first_try.failure is not None:
                failed[first_try.event_id] = first_try.failure
            return self._run_batch_with(events, savepoints=True, failed=failed)

    def _run_batch_with(
        self,
        events: Sequence[IncomingEvent[Any]],
        *,
        savepoints: bool,
        failed: Mapping[str, Exception] | None = None,
    ) -> list[Result]:
        results: list[Result] = []
        with self.uow_factory().event_batch(self.consumer_name, savepoints=savepoints) as batch:
            seen = batch.claim(event.envelope for event in events)
            fresh = [event for event in events if event.envelope.id not in seen]
            if fresh:
                self.uow_factory().prepare_batch(batch.session, fresh)
            for event in events:
                envelope = event.envelope
                if envelope.id in seen:
                    results.append("duplicate")  # handled before, or earlier in this batch
                    continue
                if failed and envelope.id in failed:
                    results.append(failed[envelope.id])  # failed in the first try, nothing of it kept
                    continue
                with _event_context(event):
                    outcome = self._run_in_batch(batch, event)
                results.append(outcome)
                if batch.records(envelope.id):
                    seen.add(envelope.id)
            batch.commit()
        EVENT_BATCH_SIZE.labels(self.consumer_name).observe(len(events))
        for event, result in zip(events, results, strict=True):
            if result == "handled":
                log.info("handled %s %s", event.envelope.type, event.envelope.id)
        return results

    def _run_in_batch(self, batch: EventBatch, event: IncomingEvent[Any]) -> Result:
        try:
            handler = self._handler(event)
        except NoHandler as exc:
            return exc
        uow = self.uow_factory()
        uow.join(batch)
        batch.begin(event.envelope)
        try:
            handler(event, uow)
        except Exception as exc:
            if is_unavailable(exc):
                raise  # the database is gone (or the transaction with it): nothing of the batch commits
            if not batch.savepoints:
                committed = batch.current_committed  # then it must run again, to keep what it committed
                raise _NeedsSavepoints(event.envelope.id, None if committed else exc) from exc
            # Effects a handler committed before failing stay, and so does its inbox row
            # (as in a transaction of its own); effects it did not commit are rolled back.
            batch.end(recorded=batch.current_committed)
            # A failure outside the handler's savepoint would fail every later event of the
            # batch; then the batch ends here and its events are handled one by one instead.
            batch.check()
            return exc
        if batch.abandoned:
            raise _NeedsSavepoints
        batch.end(recorded=True)
        return "handled"

    def _apply_alone(self, event: IncomingEvent[Any]) -> Result:
        """An ``own_transaction`` handler: its unit of work commits the inbox row with its changes."""
        envelope = event.envelope
        with _event_context(event):
            try:
                handler = self._handler(event)
                uow = self.uow_factory()
                uow.join_inbox(self.consumer_name, envelope)
                try:
                    handler(event, uow)
                    if not uow.inbox_written:
                        # The handler changed nothing (or only read): record the event anyway.
                        with uow:
                            uow.commit()
                except AlreadyHandled:
                    return "duplicate"
                except IntegrityError:
                    if self._recorded(event):
                        return "duplicate"  # a concurrent delivery of the same event won the inbox row
                    raise
            except Exception as exc:  # noqa: BLE001 - returned to the consumer, which retries
                return exc
        log.info("handled %s %s", envelope.type, envelope.id)
        return "handled"

    def _recorded(self, event: IncomingEvent[Any]) -> bool:
        with self.uow_factory() as uow:
            return uow.already_handled(self.consumer_name, event.envelope.id)

    def _recorded_or_unknown(self, event: IncomingEvent[Any]) -> bool:
        try:
            return self._recorded(event)
        except Exception:  # cannot tell now: the caller reports the original failure
            log.warning("could not look up %s in the inbox", event.envelope.id, exc_info=True)
            return False


@contextmanager
def _event_context(event: IncomingEvent[Any]) -> Iterator[None]:
    """The event's correlation and causation ids, and who acted for whom, in the logs and the
    events raised while its handler runs."""
    request = request_id_var.set(event.envelope.correlation_id)
    causation = causation_id_var.set(event.envelope.id)
    actor = actor_var.set(event.envelope.actor)
    try:
        yield
    finally:
        actor_var.reset(actor)
        causation_id_var.reset(causation)
        request_id_var.reset(request)

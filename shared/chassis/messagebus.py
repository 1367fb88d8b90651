"""One dispatch path for commands, queries and integration events (cosmicpython ch. 9–13).

The API calls ``runtime.bus.handle(SomeCommand(...))``; the event consumer calls
``runtime.bus.handle_event(incoming)``. Either way a handler is called as

    handler(message, uow)

with a fresh unit of work, and dependencies (clock, hasher, renderer, …) are
bound as keyword arguments by the service's bootstrap (``functools.partial``).
Every handler owns its unit of work: it opens it, and commits it if it changes
anything. For an event, the inbox row joins that commit (``uow.join_inbox``);
if the handler changes nothing, the bus commits the inbox row on its own, so a
redelivered event is recognised either way.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from chassis.events.incoming import IncomingEvent
from chassis.messages import Command, Query
from chassis.uow import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)

U = TypeVar("U", bound=SqlAlchemyUnitOfWork)

CommandHandler = Callable[[Any, U], Any]
EventHandler = Callable[[IncomingEvent[Any], U], None]
Outcome = Literal["handled", "duplicate"]


class NoHandler(LookupError):
    pass


K = TypeVar("K")


def inject_dependencies(
    handlers: Mapping[K, Callable[..., Any]], dependencies: Mapping[str, Any]
) -> dict[K, Callable[..., Any]]:
    """Each handler with the keyword-only dependencies it declares bound (cosmicpython ch. 13).

    ``def register(cmd, uow, *, clock)`` gets ``functools.partial(register, clock=...)``.
    A handler that names a dependency the bootstrap does not provide stops the start.
    """
    return {key: _inject(handler, dependencies) for key, handler in handlers.items()}


def _inject(handler: Callable[..., Any], dependencies: Mapping[str, Any]) -> Callable[..., Any]:
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

    def handle(self, message: Command | Query) -> Any:
        """Run the one handler of a command or query and return what it returns."""
        try:
            handler = self.command_handlers[type(message)]
        except KeyError:
            raise NoHandler(f"no handler for {type(message).__name__}") from None
        return handler(message, self.uow_factory())

    def handle_event(self, event: IncomingEvent[Any]) -> Outcome:
        """Apply an integration event once: its effects and the inbox row commit together."""
        envelope = event.envelope
        try:
            handler = self.event_handlers[envelope.type]
        except KeyError:
            raise NoHandler(f"{self.consumer_name} has no handler for {envelope.type}") from None
        with self.uow_factory() as check:
            if check.already_handled(self.consumer_name, envelope.id):
                return "duplicate"
        uow = self.uow_factory()
        uow.join_inbox(self.consumer_name, envelope)
        try:
            handler(event, uow)
            if not uow.inbox_written:
                # The handler changed nothing (or only read): record the event anyway.
                with uow:
                    uow.commit()
        except IntegrityError:
            with self.uow_factory() as again:
                if again.already_handled(self.consumer_name, envelope.id):
                    # A concurrent delivery of the same event won the inbox row.
                    return "duplicate"
            raise
        log.info("handled %s %s", envelope.type, envelope.id)
        return "handled"

"""Background threads (relay, consumer, …) running in a test, and the clean-up after them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from chassis.events.bus import EventBus
from chassis.service import ServiceRuntime


class BackgroundThreads:
    """Threads that run until ``stop`` is set; ``close()`` stops and joins them, deletes what the
    bus declared on the broker (nothing to delete on the in-memory transport) and disposes the engine."""

    def __init__(self, bus: EventBus, engine: Engine, *, join_timeout: float = 10.0) -> None:
        self.bus = bus
        self.engine = engine
        self.join_timeout = join_timeout
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def run(self, target: Callable[[threading.Event], object], name: str | None = None) -> threading.Thread:
        """Start ``target(stop)`` in a daemon thread, joined on ``stop_threads()`` / ``close()``."""
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)
        return thread

    def add(self, *threads: threading.Thread) -> None:
        """Threads started elsewhere with this ``stop`` event."""
        self.threads.extend(threads)

    def stop_threads(self) -> None:
        """Stop and join the threads; afterwards new ones can be started (with a fresh ``stop``)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=self.join_timeout)
        self.threads = []
        self.stop = threading.Event()

    def close(self) -> None:
        self.stop_threads()
        if not self.bus.is_memory:
            with self.bus.connection() as conn:
                self.bus.delete_topology(conn)
        self.engine.dispose()


class RunningRuntime(BackgroundThreads):
    """A service runtime in a test: ``start()`` runs its declared workers as the worker command does."""

    def __init__(self, runtime: ServiceRuntime[Any], *, join_timeout: float = 10.0) -> None:
        super().__init__(runtime.broker, runtime.engine, join_timeout=join_timeout)
        self.runtime = runtime

    def start(self, only: set[str] | None = None) -> None:
        """Start the service's declared workers (all, or those named in ``only``)."""
        self.add(*self.runtime.start_workers(self.stop, only=only))

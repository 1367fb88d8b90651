"""The command line every service shares: migrate, worker (relay + consumer), DLQ tools."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable

import click

from chassis.events import dlq
from chassis.logging import configure_logging
from chassis.service import ServiceRuntime


def service_cli(
    bootstrap: Callable[[], ServiceRuntime], extra_commands: Iterable[click.Command] = ()
) -> click.Group:
    @click.group()
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """Operate this Bildungsportal service."""
        runtime = bootstrap()
        configure_logging(runtime.settings.log_level, runtime.settings.log_json)
        ctx.obj = runtime

    @cli.command()
    @click.pass_obj
    def migrate(runtime: ServiceRuntime) -> None:
        """Apply the database migrations (alembic upgrade head)."""
        runtime.migrate()
        click.echo(f"{runtime.name}: database at head")

    @cli.command()
    @click.option("--relay/--no-relay", default=True, help="Run the outbox relay.")
    @click.option("--consume/--no-consume", default=True, help="Run the event consumer.")
    @click.pass_obj
    def worker(runtime: ServiceRuntime, relay: bool, consume: bool) -> None:
        """Run the outbox relay and the event consumer until SIGTERM/SIGINT."""
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        threads = []
        if relay:
            r = runtime.relay()
            threads.append(threading.Thread(target=r.run, args=(stop,), name="relay"))
        if consume and runtime.handlers:
            c = runtime.consumer()
            threads.append(threading.Thread(target=c.run_until, args=(stop,), name="consumer"))

        for t in threads:
            t.start()
        click.echo(f"{runtime.name}: worker running ({', '.join(t.name for t in threads)})")
        while not stop.wait(0.5):
            if not any(t.is_alive() for t in threads):
                break
        stop.set()
        for t in threads:
            t.join(timeout=10)

    @cli.command("dlq-list")
    @click.argument("event_type")
    @click.option("--limit", default=50, show_default=True)
    @click.pass_obj
    def dlq_list(runtime: ServiceRuntime, event_type: str, limit: int) -> None:
        """Show dead-lettered messages of this service's queue for EVENT_TYPE."""
        queue = runtime.bus.queue_name(runtime.name, event_type)
        letters = dlq.inspect(runtime.bus, queue, limit)
        for letter in letters:
            click.echo(dlq.describe(letter))
        click.echo(f"{len(letters)} dead letter(s) in {queue}.dlq")

    @cli.command("dlq-replay")
    @click.argument("event_type")
    @click.option("--limit", default=100, show_default=True)
    @click.pass_obj
    def dlq_replay(runtime: ServiceRuntime, event_type: str, limit: int) -> None:
        """Move dead-lettered messages for EVENT_TYPE back to this service's queue."""
        queue = runtime.bus.queue_name(runtime.name, event_type)
        click.echo(f"replayed {dlq.replay(runtime.bus, queue, limit)} message(s) to {queue}")

    for command in extra_commands:
        cli.add_command(command)
    return cli

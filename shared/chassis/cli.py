"""The command line every service shares: migrate, worker (its declared workers), DLQ tools."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

import click

from chassis.events import dlq
from chassis.logging import configure_logging
from chassis.service import ServiceRuntime


def service_cli(
    bootstrap: Callable[[], ServiceRuntime[Any]],
    *,
    seed_demo: Callable[[Any], None] | None = None,
    extra_commands: Iterable[click.Command] = (),
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
    def migrate(runtime: ServiceRuntime[Any]) -> None:
        """Apply the database migrations (alembic upgrade head)."""
        runtime.migrate()
        click.echo(f"{runtime.name}: database at head")

    @cli.command()
    @click.option(
        "--only",
        multiple=True,
        help="Run only the named workers (repeatable); default: every worker the service declares.",
    )
    @click.pass_obj
    def worker(runtime: ServiceRuntime[Any], only: tuple[str, ...]) -> None:
        """Run this service's background workers (relay, consumer, retention, …) until SIGTERM/SIGINT."""
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        threads = runtime.start_workers(stop, only=set(only) if only else None)
        click.echo(f"{runtime.name}: worker running ({', '.join(t.name for t in threads)})")
        while not stop.wait(0.5):
            if not all(t.is_alive() for t in threads):
                # A worker that died takes the process down, so the supervisor restarts it whole.
                click.echo(f"{runtime.name}: a worker stopped; exiting", err=True)
                stop.set()
                raise SystemExit(1)
        for t in threads:
            t.join(timeout=10)

    @cli.command("dlq-list")
    @click.argument("event_type")
    @click.option("--limit", default=50, show_default=True)
    @click.pass_obj
    def dlq_list(runtime: ServiceRuntime[Any], event_type: str, limit: int) -> None:
        """Show dead-lettered messages of this service's queue for EVENT_TYPE."""
        queue = runtime.broker.queue_name(runtime.name, event_type)
        letters = dlq.inspect(runtime.broker, queue, limit)
        for letter in letters:
            click.echo(dlq.describe(letter))
        click.echo(f"{len(letters)} dead letter(s) in {queue}.dlq")

    @cli.command("dlq-replay")
    @click.argument("event_type")
    @click.option("--limit", default=100, show_default=True)
    @click.pass_obj
    def dlq_replay(runtime: ServiceRuntime[Any], event_type: str, limit: int) -> None:
        """Move dead-lettered messages for EVENT_TYPE back to this service's queue."""
        queue = runtime.broker.queue_name(runtime.name, event_type)
        click.echo(f"replayed {dlq.replay(runtime.broker, queue, limit)} message(s) to {queue}")

    if seed_demo is not None:

        @cli.command("seed-demo")
        @click.pass_obj
        def seed_demo_command(runtime: ServiceRuntime[Any]) -> None:
            """Put the demo data of the embedded mode into this service's database (idempotent)."""
            seed_demo(runtime)
            click.echo(f"{runtime.name}: demo data seeded")

    for command in extra_commands:
        cli.add_command(command)
    return cli

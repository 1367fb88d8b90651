"""``bp-identity``: migrate, worker, dlq-list, dlq-replay, seed-demo."""

from __future__ import annotations

import click

from chassis.cli import service_cli
from chassis.service import ServiceRuntime
from identity.bootstrap import bootstrap, seed_demo


@click.command("seed-demo")
@click.pass_obj
def seed_demo_command(runtime: ServiceRuntime) -> None:
    """Put the demo accounts and the portal-web client into the database (idempotent)."""
    seed_demo(runtime)
    click.echo("identity: demo accounts seeded")


cli = service_cli(bootstrap, extra_commands=[seed_demo_command])

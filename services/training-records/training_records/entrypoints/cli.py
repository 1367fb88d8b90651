"""``bp-training-records``: migrate, worker, dlq-list, dlq-replay (chassis) and seed-demo."""

from __future__ import annotations

import click

from chassis.cli import service_cli
from chassis.service import ServiceRuntime
from training_records.bootstrap import bootstrap, seed_demo


@click.command("seed-demo")
@click.pass_obj
def seed_demo_command(runtime: ServiceRuntime) -> None:
    """Put the demo company, occupations and contract into the database (idempotent)."""
    seed_demo(runtime)
    click.echo(f"{runtime.name}: demo data in place")


cli = service_cli(bootstrap, extra_commands=[seed_demo_command])

from __future__ import annotations

import click

from chassis.cli import service_cli
from chassis.service import ServiceRuntime
from exams.bootstrap import bootstrap, seed_demo


@click.command("seed-demo")
@click.pass_obj
def seed_demo_command(runtime: ServiceRuntime) -> None:
    """Put the demo data of the embedded mode into this service's database."""
    seed_demo(runtime)
    click.echo("exams: demo data seeded")


cli = service_cli(bootstrap, extra_commands=[seed_demo_command])

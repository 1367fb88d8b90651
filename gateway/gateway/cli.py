"""``bp-portal``: the run modes and the generated nginx config from one command."""

from __future__ import annotations

import sys

import click


@click.group()
def cli() -> None:
    """Run the Bildungsportal."""


@cli.command()
def run() -> None:
    """The whole portal in one process (embedded mode)."""
    from gateway import embedded

    sys.exit(embedded.main())


@cli.command("run-distributed", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run_distributed(args: tuple[str, ...]) -> None:
    """Every service under gunicorn with RabbitMQ, PostgreSQL and nginx (see --help of `run`)."""
    from gateway import distributed

    sys.exit(distributed.main(["run", *args]))


@cli.command("migrate-web")
def migrate_web() -> None:
    """Migrate the browser UI's database (WEB_DATABASE_URL); once, before its workers start."""
    from gateway.web.config import WebSettings
    from gateway.web.store import migrate

    migrate(WebSettings.from_env().database_url)


@cli.command("nginx-config", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def nginx_config(args: tuple[str, ...]) -> None:
    """Print the nginx config generated from the route table (--mode local|compose)."""
    from gateway import nginx

    sys.exit(nginx.main(list(args)))

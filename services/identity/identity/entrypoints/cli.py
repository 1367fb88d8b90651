"""``bp-identity``: migrate, worker, seed-demo and the dead-letter tools."""

from __future__ import annotations

from chassis.cli import service_cli
from identity.bootstrap import bootstrap, seed_demo

cli = service_cli(bootstrap, seed_demo=seed_demo)

"""``bp-training-records``: migrate, worker, seed-demo and the dead-letter tools (chassis)."""

from __future__ import annotations

from chassis.cli import service_cli
from training_records.bootstrap import bootstrap, seed_demo

cli = service_cli(bootstrap, seed_demo=seed_demo)

"""Alembic environment of training-records: the chassis runs it against our metadata."""

from chassis.migrations import run_env
from training_records.adapters.orm import metadata

run_env(metadata)

"""Alembic environment of the documents database."""

from chassis.migrations import run_env
from documents.adapters.orm import metadata

run_env(metadata)

from chassis.migrations import run_env
from identity.adapters.orm import metadata

run_env(metadata)

from chassis.migrations import run_env
from gateway.web.store import metadata

run_env(metadata)

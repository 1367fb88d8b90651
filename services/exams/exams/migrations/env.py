from chassis.migrations import run_env
from exams.adapters.orm import metadata

run_env(metadata)

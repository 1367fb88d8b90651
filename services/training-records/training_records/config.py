"""Settings of training-records, from the environment only (see docs/service-conventions.md)."""

from __future__ import annotations

from chassis.config import ServiceSettings

SERVICE_NAME = "training-records"


def settings() -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE_NAME)

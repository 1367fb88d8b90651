from __future__ import annotations

from chassis.config import ServiceSettings

SERVICE_NAME = "exams"


def settings() -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE_NAME)

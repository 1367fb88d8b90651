"""Settings of the documents service: the shared ones plus its own (``DOCUMENTS_<NAME>``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chassis.config import ServiceSettings

SERVICE_NAME = "documents"
DEFAULT_CUTOFF = date(2018, 2, 1)


def settings() -> ServiceSettings:
    return ServiceSettings.from_env(SERVICE_NAME)


@dataclass(frozen=True)
class DocumentsSettings:
    """The service's own settings, read from ``settings.extra``."""

    digital_confirmation_cutoff: date
    activation_url: str

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DocumentsSettings:
        raw = settings.extra.get("DIGITAL_CONFIRMATION_CUTOFF", "").strip()
        try:
            cutoff = date.fromisoformat(raw) if raw else DEFAULT_CUTOFF
        except ValueError:
            raise ValueError(
                f"DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF must be a date like 2018-02-01, not {raw!r}"
            ) from None
        return cls(digital_confirmation_cutoff=cutoff, activation_url=settings.public_url + "/auth/activate")

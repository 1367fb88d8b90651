"""The register's people per company, as identity learns them from training-records' events.

identity needs them to let a company's Administrator or Verwalter create accounts for the
company's apprentices and trainers, and nobody else's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass
class RegisteredApprentice:
    """An apprentice (by Azubinummer) with a registered contract at the company."""

    company_number: str
    apprentice_number: str
    name: str


@dataclass
class RegisteredTrainer:
    """A trainer of the company as the register holds them (``removed`` once they left)."""

    trainer_id: uuid.UUID
    company_number: str
    name: str
    email: str
    removed: bool = False

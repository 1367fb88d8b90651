"""What exams knows of training contracts: a read model fed by training-records' events.

Exam registration (Prüfungsanmeldung) needs the apprentice, the company and the
occupation of a contract without asking training-records on the request path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass
class RegisteredContract:
    contract_id: str
    contract_number: str
    company_number: str
    company_name: str
    apprentice_first_name: str
    apprentice_last_name: str
    apprentice_birth_date: date
    occupation_code: str
    occupation_title: str
    start_date: date
    end_date: date
    registered_on: date

    @property
    def apprentice_name(self) -> str:
        return f"{self.apprentice_first_name} {self.apprentice_last_name}"

"""What callers ask training-records to change (commands): frozen dataclasses for the message bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chassis.messages import Command
from chassis.principal import Principal


@dataclass(frozen=True)
class CompanyDetails:
    """The company as the clerk gives it; only the number is needed for a known company."""

    company_number: str
    name: str | None = None
    email: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None

    def master_data(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "email": self.email,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
        }


@dataclass(frozen=True)
class ApprenticeDetails:
    first_name: str
    last_name: str
    birth_date: date
    email: str


@dataclass(frozen=True)
class RegisterContract(Command):
    """Enter a training contract in the chamber's register ("eintragen") and announce it."""

    principal: Principal
    company: CompanyDetails
    apprentice: ApprenticeDetails
    occupation_code: str
    start_date: date
    end_date: date
    registered_on: date | None = None  # defaults to today; earlier for historic entries

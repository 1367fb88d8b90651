"""The demo dataset of the embedded mode, in one place.

Each service seeds its own part of it into its own database (``seed-demo``),
so that the logins in the README and the data behind them agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict


@dataclass(frozen=True)
class DemoAccount:
    key: str
    login: str
    email: str
    password: str
    name: str
    roles: tuple[str, ...] = ()
    company_roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    apprentice_number: str | None = None
    account_id: str = ""


class DemoCompany(TypedDict):
    company_number: str
    name: str
    email: str
    street: str
    postal_code: str
    city: str


class DemoApprentice(TypedDict):
    first_name: str
    last_name: str
    birth_date: date
    email: str
    apprentice_number: str


class DemoContract(TypedDict):
    contract_id: str
    contract_number: str
    registered_on: date
    start_date: date
    end_date: date
    occupation_code: str
    apprentice: DemoApprentice


DEMO_COMPANY: DemoCompany = {
    "company_number": "4711001",
    "name": "Muster Maschinenbau GmbH",
    "email": "ausbildung@muster-maschinenbau.example",
    "street": "Industriestraße 12",
    "postal_code": "34117",
    "city": "Kassel",
}

OCCUPATIONS = (
    ("78100", "Industriekaufmann/Industriekauffrau"),
    ("13100", "Fachinformatiker/-in Anwendungsentwicklung"),
    ("25400", "Industriemechaniker/-in"),
    ("26200", "Mechatroniker/-in"),
    ("68400", "Kaufmann/Kauffrau für Büromanagement"),
    ("27400", "Elektroniker/-in für Betriebstechnik"),
)

DEMO_ACCOUNTS = (
    DemoAccount(
        key="clerk",
        login="sachbearbeitung@ihk.example",
        email="sachbearbeitung@ihk.example",
        password="Kammer-Demo-2026!",
        name="Sabine Schreiber",
        roles=("chamber_clerk",),
        account_id="00000000-0000-4000-8000-000000000001",
    ),
    DemoAccount(
        key="company_admin",
        login="admin@muster-maschinenbau.example",
        email="admin@muster-maschinenbau.example",
        password="Betrieb-Demo-2026!",
        name="Markus Muster",
        company_roles=(("4711001", ("admin",)),),
        account_id="00000000-0000-4000-8000-000000000002",
    ),
    DemoAccount(
        key="trainer",
        login="ausbilder@muster-maschinenbau.example",
        email="ausbilder@muster-maschinenbau.example",
        password="Ausbilder-Demo-2026!",
        name="Anna Ausbilder",
        company_roles=(("4711001", ("trainer",)),),
        account_id="00000000-0000-4000-8000-000000000003",
    ),
    DemoAccount(
        key="apprentice",
        login="20260001",
        email="azubi@demo.example",
        password="Azubi-Demo-2026!",
        name="Lena Lernwillig",
        roles=("apprentice",),
        apprentice_number="20260001",
        account_id="00000000-0000-4000-8000-000000000004",
    ),
    DemoAccount(
        key="chamber_admin",
        login="administration@ihk.example",
        email="administration@ihk.example",
        password="Kammer-Admin-2026!",
        name="Christa Kammer",
        # Grants the chamber's roles ("Rollen der Kammer") and decides deputyships.
        roles=("chamber_admin",),
        account_id="00000000-0000-4000-8000-000000000005",
    ),
)

# The demo apprentice's running contract. Seeded data raises no events, so it
# has no Eintragungsbestätigung in "Dokumente"; register a new contract to see one.
DEMO_CONTRACT: DemoContract = {
    "contract_id": "00000000-0000-4000-9000-000000000001",
    "contract_number": "2025-000042",
    "registered_on": date(2025, 8, 1),
    "start_date": date(2025, 9, 1),
    "end_date": date(2028, 8, 31),
    "occupation_code": "78100",
    "apprentice": {
        "first_name": "Lena",
        "last_name": "Lernwillig",
        "birth_date": date(2000, 5, 17),
        "email": "azubi@demo.example",
        "apprentice_number": "20260001",
    },
}


def demo_account(key: str) -> DemoAccount:
    return next(a for a in DEMO_ACCOUNTS if a.key == key)

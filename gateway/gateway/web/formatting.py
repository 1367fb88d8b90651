"""German dates and times for display (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

BERLIN = ZoneInfo("Europe/Berlin")

# The services' state codes (training-records' ContractState and AccountState).
CONTRACT_STATES = {"registered": "eingetragen"}

ACCOUNT_STATES = {
    None: "noch nicht angelegt",
    "none": "noch nicht angelegt",
    "prepared": "vorbereitet",
    "active": "aktiv",
}


def german_date(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_berlin(value).date()
    return value.strftime("%d.%m.%Y")


def german_time(value: datetime | None) -> str:
    return "–" if value is None else to_berlin(value).strftime("%H:%M Uhr")


def german_datetime(value: datetime | None) -> str:
    """``24.11.2026 um 14:03 Uhr``."""
    return "–" if value is None else f"{german_date(value)} um {german_time(value)}"


def to_berlin(value: datetime) -> datetime:
    # The services speak UTC; a naive value from them is UTC too.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(BERLIN)


def contract_state(value: str | None) -> str:
    return CONTRACT_STATES.get(value or "", value or "–")


def account_state(value: str | None) -> str:
    return ACCOUNT_STATES.get(value, value or "–")


def register_filters(app: Flask) -> None:
    app.add_template_filter(german_date, "date_de")
    app.add_template_filter(german_time, "time_de")
    app.add_template_filter(german_datetime, "datetime_de")
    app.add_template_filter(contract_state, "contract_state")
    app.add_template_filter(account_state, "account_state")

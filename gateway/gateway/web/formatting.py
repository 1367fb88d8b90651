"""German dates and times for display (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape

from gateway.web.import_format import column_label

BERLIN = ZoneInfo("Europe/Berlin")

# The services' state codes (training-records' ContractState and AccountState).
CONTRACT_STATES = {
    "registered": "eingetragen",
    "interrupted": "unterbrochen",
    "completed": "abgeschlossen",
    "terminated": "vorzeitig gelöst",
}
# The badge of each state: differs by text and by shape of its frame, not by colour alone.
CONTRACT_STATE_BADGES = {
    "registered": "badge--ok",
    "interrupted": "badge--paused",
    "completed": "badge--done",
    "terminated": "badge--ended",
}

# The steps of a contract's life (training-records' ChangeKind), as its history shows them.
CHANGE_KINDS = {
    "registered": "eingetragen",
    "extended": "verlängert",
    "shortened": "verkürzt",
    "interrupted": "unterbrochen",
    "resumed": "fortgesetzt",
    "trainer_changed": "Ausbilder/-in gewechselt",
    "details_corrected": "berichtigt (Datenübermittlung)",
    "completed": "abgeschlossen",
    "terminated": "vorzeitig gelöst",
}

# Why a contract ended early (training-records' TerminationReason).
TERMINATION_REASONS = {
    "probation": "Kündigung in der Probezeit",
    "by_apprentice": "Kündigung durch die/den Auszubildende/n",
    "by_company": "Kündigung durch den Ausbildungsbetrieb",
    "mutual": "Aufhebungsvertrag",
    "other": "sonstiger Grund",
}

# The chamber's data import (training-records' ImportStatus).
IMPORT_STATUSES = {
    "queued": "wartet",
    "running": "läuft",
    "succeeded": "abgeschlossen",
    "failed": "abgebrochen",
}

ACCOUNT_STATES = {
    None: "noch nicht angelegt",
    "none": "noch nicht angelegt",
    "prepared": "vorbereitet",
    "invited": "eingeladen",
    "active": "aktiv",
}


def german_date(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = to_berlin(value).date()
    return value.strftime("%d.%m.%Y")


def german_iso_date(value: str | None) -> str:
    """A date the services wrote as text (``2029-07-31``, e.g. in a history's details)."""
    try:
        return german_date(date.fromisoformat(str(value)[:10])) if value else "–"
    except ValueError:
        return str(value)


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


def account_symbol(value: str | None) -> str:
    """The symbol next to the account state: a green tick only for an active account (text says it too)."""
    return {"active": "active", "prepared": "prepared", "invited": "prepared"}.get(value or "", "none")


def contract_state_badge(value: str | None) -> str:
    return CONTRACT_STATE_BADGES.get(value or "", "")


def change_kind(value: str | None) -> str:
    return CHANGE_KINDS.get(value or "", value or "–")


def termination_reason(value: str | None) -> str:
    return TERMINATION_REASONS.get(value or "", value or "–")


def import_status(value: str | None) -> str:
    return IMPORT_STATUSES.get(value or "", value or "–")


def months(value: int | None) -> str:
    """``1 Monat``, ``4 Monate``."""
    if value is None:
        return "–"
    return f"{value} Monat" if value == 1 else f"{value} Monate"


def time_left(seconds: float | None) -> str:
    """A rough estimate in words: clerks want to know whether to wait or come back later."""
    if seconds is None:
        return "wird ermittelt"
    if seconds < 60:
        return "weniger als eine Minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return "etwa 1 Minute" if minutes == 1 else f"etwa {minutes} Minuten"
    hours, rest = divmod(minutes, 60)
    hours_text = "1 Stunde" if hours == 1 else f"{hours} Stunden"
    return f"etwa {hours_text}" + (f" {rest} Minuten" if rest >= 5 else "")


def breakable(value: str | None) -> Markup:
    """Long titles ("Industriekaufmann/Industriekauffrau") may wrap after a slash, not mid-word."""
    return escape(value or "").replace("/", Markup("/<wbr>"))


def number_de(value: int | None) -> str:
    """``12.345``: German digit grouping."""
    return "–" if value is None else f"{value:,}".replace(",", ".")


def register_filters(app: Flask) -> None:
    app.add_template_filter(german_date, "date_de")
    app.add_template_filter(german_time, "time_de")
    app.add_template_filter(german_iso_date, "iso_date_de")
    app.add_template_filter(german_datetime, "datetime_de")
    app.add_template_filter(contract_state, "contract_state")
    app.add_template_filter(account_state, "account_state")
    app.add_template_filter(account_symbol, "account_symbol")
    app.add_template_filter(contract_state_badge, "state_badge")
    app.add_template_filter(change_kind, "change_kind")
    app.add_template_filter(termination_reason, "termination_reason")
    app.add_template_filter(import_status, "import_status")
    app.add_template_filter(months, "months")
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(number_de, "number_de")
    app.add_template_filter(column_label, "import_column")
    app.add_template_filter(breakable, "breakable")

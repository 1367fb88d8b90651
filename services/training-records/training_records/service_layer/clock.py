"""The chamber's calendar: "today" is the date in Germany, not on the server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHAMBER_TIMEZONE = ZoneInfo("Europe/Berlin")


def chamber_today() -> date:
    return datetime.now(CHAMBER_TIMEZONE).date()


def utc_now() -> datetime:
    return datetime.now(UTC)

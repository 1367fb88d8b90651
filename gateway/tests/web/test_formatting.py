from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from gateway.web.formatting import account_state, contract_state, german_date, german_datetime, german_time


def test_dates_are_day_month_year() -> None:
    assert german_date(date(2026, 2, 3)) == "03.02.2026"
    assert german_date(None) == "–"


def test_times_are_shown_in_berlin_in_winter_and_summer() -> None:
    winter = datetime(2026, 11, 24, 13, 3, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 13, 3, tzinfo=UTC)
    assert german_datetime(winter) == "24.11.2026 um 14:03 Uhr"
    assert german_datetime(summer) == "01.07.2026 um 15:03 Uhr"
    assert german_time(summer) == "15:03 Uhr"


def test_the_date_follows_berlin_across_midnight() -> None:
    late_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert german_date(late_utc) == "01.01.2027"


def test_naive_values_from_services_count_as_utc_and_offsets_are_honoured() -> None:
    assert german_datetime(datetime(2026, 11, 24, 13, 3)) == "24.11.2026 um 14:03 Uhr"
    new_york = timezone(timedelta(hours=-5))
    assert german_datetime(datetime(2026, 11, 24, 8, 3, tzinfo=new_york)) == "24.11.2026 um 14:03 Uhr"


def test_states_get_german_labels() -> None:
    assert contract_state("registered") == "eingetragen"
    assert account_state("prepared") == "vorbereitet"
    assert account_state("active") == "aktiv"
    assert account_state("none") == "noch nicht angelegt"

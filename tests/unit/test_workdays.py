from datetime import UTC, date, datetime

import pytest

from services.common import workdays


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 24), True),  # a Tuesday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 12, 24), False),  # Christmas Eve (Thursday)
        (date(2026, 12, 25), False),
        (date(2026, 12, 28), True),
        (date(2026, 6, 19), False),  # Midsummer Eve (Friday)
        (date(2027, 6, 25), False),  # Midsummer Eve 2027
        (date(2026, 5, 14), False),  # Ascension Day
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 12, 7), True),  # the Monday after Independence Day (a Sunday in 2026)
        (date(2027, 12, 6), False),  # Independence Day on a Monday
    ],
)
def test_finnish_working_days(day: date, working: bool) -> None:
    assert workdays.is_working_day(day) is working


def test_why_not_names_the_holiday_in_finnish() -> None:
    key, params = workdays.why_not(date(2026, 12, 24), today=date(2026, 11, 24))  # type: ignore[misc]
    assert key == "visits.error.date_holiday"
    assert params["holiday"] == "Jouluaatto"
    assert workdays.why_not(date(2026, 6, 19), today=date(2026, 1, 1))[1]["holiday"] == "Juhannusaatto"  # type: ignore[index]


def test_today_and_past_days_are_not_future() -> None:
    today = date(2026, 11, 24)
    assert workdays.why_not(today, today=today) == ("visits.error.date_past", {})
    assert workdays.why_not(date(2026, 11, 23), today=today) == ("visits.error.date_past", {})
    assert workdays.why_not(date(2026, 11, 25), today=today) is None


def test_local_today_is_helsinki_time() -> None:
    # 22:30 UTC on the 24th is already the 25th in Helsinki (UTC+2 in winter)
    assert workdays.local_today(datetime(2026, 11, 24, 22, 30, tzinfo=UTC)) == date(2026, 11, 25)
    assert workdays.local_today(datetime(2026, 11, 24, 21, 59, tzinfo=UTC)) == date(2026, 11, 24)

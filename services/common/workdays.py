"""Finnish working days: not weekends, not public holidays (the `holidays` package's Finland,
which includes Midsummer Eve and Christmas Eve)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import holidays

HELSINKI = ZoneInfo("Europe/Helsinki")
MONTHS_AHEAD = 18  # how far ahead a visit may be, by default (the region's setting)


@cache
def _finland(year: int) -> holidays.HolidayBase:
    return holidays.Finland(years=year, language="fi")


def holiday_name(day: date) -> str | None:
    """The Finnish name of the public holiday on `day`, if it is one."""
    return _finland(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def local_today(now: datetime) -> date:
    """Today's date in Helsinki for an aware UTC `now`."""
    return now.astimezone(HELSINKI).date()


def months_after(day: date, months: int) -> date:
    """The same day of the month `months` later (the month's last day where it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(day.day, last))


def why_not(
    day: date, *, today: date, months_ahead: int = MONTHS_AHEAD
) -> tuple[str, dict[str, object]] | None:
    """Why `day` cannot be a visit date (message key and params), or None if it can: not a day
    that has passed, nor more than `months_ahead` months ahead, nor a weekend or a holiday."""
    if day <= today:
        return "visits.error.date_past", {}
    latest = months_after(today, months_ahead)
    if day > latest:
        return "visits.error.date_far", {
            "months": months_ahead,
            "latest": f"{latest.day}.{latest.month}.{latest.year}",
        }
    if day.weekday() >= 5:
        return "visits.error.date_weekend", {}
    name = holiday_name(day)
    if name is not None:
        return "visits.error.date_holiday", {"holiday": name}
    return None

"""Finnish working days: not weekends, not public holidays (the `holidays` package's Finland,
which includes Midsummer Eve and Christmas Eve)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import holidays

HELSINKI = ZoneInfo("Europe/Helsinki")


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


def why_not(day: date, *, today: date) -> tuple[str, dict[str, object]] | None:
    """Why `day` cannot be a visit date (message key and params), or None if it can."""
    if day <= today:
        return "visits.error.date_past", {}
    if day.weekday() >= 5:
        return "visits.error.date_weekend", {}
    name = holiday_name(day)
    if name is not None:
        return "visits.error.date_holiday", {"holiday": name}
    return None

"""Office hours: Monday to Friday 8-16 in the bot's time zone, never on a Finnish public holiday
(working days come from `services.common.workdays`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.workdays import is_working_day

OPENS = time(8, 0)
CLOSES = time(16, 0)


__all__ = [
    "add_working_days",
    "is_working_day",
    "next_office_time",
    "next_working_day",
    "previous_working_day",
]


def next_working_day(day: date) -> date:
    """The first working day after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """The last working day before `day`."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    for _ in range(count):
        day = next_working_day(day)
    return day


def next_office_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` itself if it is within office hours, else the next opening (8:00 local time).

    Works on wall-clock dates in `tz`, so a daylight-saving change never shifts or doubles a
    reminder: 8:00 stays 8:00 local time whatever the UTC offset is that day.
    """
    local = moment.astimezone(tz)
    day = local.date()
    if is_working_day(day) and OPENS <= local.time() < CLOSES:
        return moment
    if not is_working_day(day) or local.time() >= CLOSES:
        day = next_working_day(day)
    return datetime.combine(day, OPENS, tzinfo=tz).astimezone(moment.tzinfo)

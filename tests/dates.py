"""Visit dates for tests, derived from the clock the bot under test uses, never from a calendar.

A bot in a subprocess (`python -m bot`) runs on the real clock, so its tests take their dates
from here with `datetime.now(UTC)`; the in-process bot runs on the tests' own `Clock`.
"""

from __future__ import annotations

from datetime import date, datetime

from services.common.office_hours import add_working_days
from services.common.workdays import local_today


def working_days_ahead(now: datetime, count: int) -> date:
    """The `count`th Finnish working day after today in Helsinki (weekends and holidays skipped)."""
    return add_working_days(local_today(now), count)


def visit_dates(now: datetime, count: int = 2, *, lead: int = 5) -> tuple[str, ...]:
    """`count` consecutive working days, the first `lead` working days from `now`, as the date
    pickers send them (ISO), for a proposal to a bot whose clock says `now`."""
    first = working_days_ahead(now, lead)
    return tuple(add_working_days(first, i).isoformat() for i in range(count))

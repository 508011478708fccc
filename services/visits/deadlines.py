"""Nobody waits forever: each pending decision has a deadline.

A party asked in a round (the supervisors, the host, funding) answers by the earlier of
`answer_days` working days after it was asked (the region's setting, default 5) and `MARGIN`
working days before the first candidate date, and never before the day it was asked. On the
working day after the deadline the request lapses for that party: the visitor is asked at once
what to do (wait longer, other dates, send the request on to the next library that offers the
topic, or withdraw; `services.visits.lapses`). The party may still answer until the visitor
chooses otherwise.

A deadline is a reminder (`DECISION_DEADLINE`, to the visitor) planned with the party's nudges;
its `params` hold the party, the round, the deadline day and how many times the visitor chose to
wait (`n`). Waiting longer plans the next one. This module holds the rule and reads a visit's
deadlines for its messages; it plans nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Library, Region, Reminder, ReminderStatus, Visit
from services.common.office_hours import add_working_days, next_working_day, previous_working_day

DECISION_DEADLINE = "decision_deadline"
PARTIES = ("supervisor", "host", "funding")  # whose requests have a deadline
DEFAULT_DAYS = 5
MARGIN = 2  # working days before the first candidate date: time to arrange the trip
MAX_WAITS = 3  # how many times the visitor may choose to wait longer for one party in a round
LAPSES_AT = time(9, 0)  # on the working day after the deadline, the visitor is asked


@dataclass(frozen=True)
class Deadline:
    party: str
    day: date  # answer by the end of this day
    lapsed: bool  # the day has passed and the visitor has been asked what to do (it was sent)
    waits: int = 0  # how many times the visitor chose to wait longer


def latest_for(first: date) -> date:
    """The last day a request for a visit on `first` can be answered in time to arrange it."""
    for _ in range(MARGIN):
        first = previous_working_day(first)
    return first


def deadline_for(asked_on: date, first: date | None, days: int) -> date:
    """The earlier of `days` working days after `asked_on` and `MARGIN` working days before the
    first candidate date; never before `asked_on` itself."""
    by = add_working_days(asked_on, max(1, days))
    if first is not None:
        by = min(by, latest_for(first))
    return max(by, asked_on)


def lapse_time(by: date, tz: ZoneInfo) -> datetime:
    """When a request answerable by the end of `by` lapses: the next working day's morning."""
    return datetime.combine(next_working_day(by), LAPSES_AT, tzinfo=tz)


def first_day(visit: Visit) -> date | None:
    """The earliest candidate date still given (or the chosen one)."""
    days = [d.day for d in visit.dates if d.active]
    if visit.chosen_date is not None:
        days.append(visit.chosen_date)
    return min(days, default=None)


def answer_days(session: Session, visit: Visit) -> int:
    """The region's time to answer (working days), by the visitor's home library's region."""
    days = session.scalar(
        select(Region.answer_days)
        .join(Library, Library.region_id == Region.id)
        .where(Library.id == visit.home_library_id)
    )
    return int(days) if days else DEFAULT_DAYS


def deadlines_of(session: Session, visit_id: int, round_: int) -> tuple[Deadline, ...]:
    """The current deadline of each party asked in the round (the latest planned for it)."""
    rows = session.execute(
        select(Reminder.params, Reminder.status).where(
            Reminder.visit_id == visit_id, Reminder.kind == DECISION_DEADLINE
        )
    ).all()
    latest: dict[str, Deadline] = {}
    for params, status in rows:
        params = params or {}
        party = str(params.get("party", ""))
        if params.get("round") != round_ or party not in PARTIES or status == ReminderStatus.CANCELLED:
            continue
        try:
            day = date.fromisoformat(str(params.get("deadline")))
        except ValueError:
            continue
        waits = int(params.get("n", 0))
        if party not in latest or waits >= latest[party].waits:
            latest[party] = Deadline(party, day, status == ReminderStatus.SENT, waits)
    return tuple(latest[p] for p in PARTIES if p in latest)

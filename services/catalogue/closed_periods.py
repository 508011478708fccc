"""A host library's closed periods as its offer form declares them: any number of from-to periods,
each with an optional reason ("kesäsulku", "remontti"), one per line of a text field.

A line reads `1.7.2027–31.7.2027 kesäsulku`: the day and month of the start may leave out the
year (`1.7.–31.7.2027`), a single day is a period of one day (`24.12.2027`), ISO dates
(`2027-07-01 – 2027-07-31`) are read too, and any dash separates the two. Saving the form
replaces the library's declared periods that have not ended; the ended ones stay as history.
The offer form's "not until" date is kept apart (its period's note is NOT_UNTIL_NOTE).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import ClosedPeriod

NOT_UNTIL_NOTE = "offer:not-until"  # the "no visitors before" date of the offer form
MAX_PERIODS = 20
MAX_TEXT = 1500
MAX_REASON = 40  # 20 lines of the longest still fit the field's 1,500 characters
MAX_DAYS = 366  # one period covers at most a year
Problem = tuple[str, dict[str, object]]

_DAY = r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.(?:\d{4})?)"
_LINE = re.compile(rf"^\s*(?P<start>{_DAY})(?:\s*[-–—]\s*(?P<end>{_DAY}))?(?:\s+(?P<reason>.*?))?\s*$")


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date
    reason: str = ""

    def line(self) -> str:
        """The period as a line of the form (what `parse` reads back)."""
        start, end = _dotted(self.starts_on), _dotted(self.ends_on)
        text = start if self.starts_on == self.ends_on else f"{start}–{end}"
        return f"{text} {self.reason}".strip()


def _dotted(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def _day(text: str, year: int | None) -> date | None:
    try:
        if "-" in text:
            y, m, d = (int(p) for p in text.split("-"))
            return date(y, m, d)
        parts = [p for p in text.split(".") if p]
        d, m = int(parts[0]), int(parts[1])
        if len(parts) > 2:
            return date(int(parts[2]), m, d)
        return date(year, m, d) if year is not None else None
    except (ValueError, IndexError):
        return None


def parse(text: str, *, today: date) -> tuple[list[Period], Problem | None]:
    """The periods of the form's text, or the first line's problem (message key and params,
    the line's number among them): unreadable, backwards, ended, over a year, a long reason,
    too many."""
    if len(text) > MAX_TEXT:
        return [], ("offer.error.closed_too_long", {"max": MAX_TEXT})
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) > MAX_PERIODS:
        return [], ("offer.error.closed_too_many", {"max": MAX_PERIODS})
    periods: list[Period] = []
    for n, line in lines:
        found = _LINE.match(line)
        if found is None:
            return [], ("offer.error.closed_line", {"line": n})
        end_text = found["end"] or found["start"]
        ends = _day(end_text, None)
        starts = _day(found["start"], ends.year if ends else None)
        if starts and ends and starts > ends and found["start"].count(".") == 2 and "-" not in found["start"]:
            starts = _day(found["start"], ends.year - 1)  # 20.12.-6.1.2028: the December before
        if starts is None or ends is None:
            return [], ("offer.error.closed_line", {"line": n})
        if ends < starts:
            return [], ("offer.error.closed_backwards", {"line": n})
        if ends < today:
            return [], ("offer.error.closed_past", {"line": n})
        if (ends - starts).days >= MAX_DAYS:
            return [], ("offer.error.closed_long", {"line": n})
        reason = " ".join((found["reason"] or "").split())
        if len(reason) > MAX_REASON:
            return [], ("offer.error.closed_reason", {"line": n, "max": MAX_REASON})
        periods.append(Period(starts, ends, reason))
    return sorted(periods, key=lambda p: (p.starts_on, p.ends_on)), None


def declared(session: Session, library_id: int, *, today: date) -> list[Period]:
    """The library's declared periods that have not ended, in order."""
    rows = session.scalars(
        select(ClosedPeriod)
        .where(
            ClosedPeriod.library_id == library_id,
            ClosedPeriod.note != NOT_UNTIL_NOTE,
            ClosedPeriod.ends_on >= today,
        )
        .order_by(ClosedPeriod.starts_on, ClosedPeriod.ends_on)
    )
    return [Period(r.starts_on, r.ends_on, r.note) for r in rows]


def replace(session: Session, library_id: int, periods: Sequence[Period], *, today: date) -> None:
    """Make `periods` the library's declared periods from today on (inside the caller's unit of
    work); those that ended before today stay as they were."""
    session.execute(
        delete(ClosedPeriod).where(
            ClosedPeriod.library_id == library_id,
            ClosedPeriod.note != NOT_UNTIL_NOTE,
            ClosedPeriod.ends_on >= today,
        )
    )
    session.add_all(
        ClosedPeriod(library_id=library_id, starts_on=p.starts_on, ends_on=p.ends_on, note=p.reason)
        for p in periods
    )

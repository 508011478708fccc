"""iCalendar invites for agreed visits: Europe/Helsinki with its VTIMEZONE, a stable UID,
SEQUENCE raised on every change, METHOD:CANCEL when the visit is cancelled, STATUS:TENTATIVE
while a move waits for consent (the confirmation replaces it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

HELSINKI = ZoneInfo("Europe/Helsinki")
# Working hours of a visit by its length: (start, end, days)
HOURS = {
    "half_day": (time(9), time(12), 1),
    "day": (time(9), time(16), 1),
    "two_days": (time(9), time(16), 2),
}


@dataclass(frozen=True)
class Invite:
    visit_id: int
    day: date
    length: str
    summary: str
    location: str
    description: str
    sequence: int
    cancelled: bool = False
    domain: str = "vertaisbot"
    tentative: bool = False  # moved, the new day not yet agreed: said in the description too


def uid_of(visit_id: int, domain: str = "vertaisbot", *, day_number: int = 1) -> str:
    day = "" if day_number == 1 else f"-day{day_number}"
    return f"visit-{visit_id}{day}@{domain}"


def build_ics(invite: Invite, *, now: datetime) -> bytes:
    """One event per day of the visit, each with that day's hours (a two-day visit is two events,
    not one block across the night). The first day's UID is the visit's; a later day's adds its
    number, so that every event keeps its UID through moves and a cancel."""
    start_time, end_time, days = HOURS.get(invite.length, HOURS["day"])
    first = invite.day
    last = first + timedelta(days=days - 1)
    cal = Calendar()
    cal.add("prodid", "-//vertaisbot//vertaisoppiminen//FI")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if invite.cancelled else "PUBLISH")
    cal.add_component(
        Timezone.from_tzid(
            "Europe/Helsinki", first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1)
        )
    )
    for n in range(1, days + 1):
        day = first + timedelta(days=n - 1)
        event = Event()
        event.add("uid", uid_of(invite.visit_id, invite.domain, day_number=n))
        event.add("sequence", invite.sequence)
        event.add("dtstamp", now)
        event.add("dtstart", datetime.combine(day, start_time, tzinfo=HELSINKI))
        event.add("dtend", datetime.combine(day, end_time, tzinfo=HELSINKI))
        event.add("summary", invite.summary if days == 1 else f"{invite.summary} ({n}/{days})")
        event.add("location", invite.location)
        event.add("description", invite.description)
        event.add(
            "status", "CANCELLED" if invite.cancelled else "TENTATIVE" if invite.tentative else "CONFIRMED"
        )
        cal.add_component(event)
    return cal.to_ical()

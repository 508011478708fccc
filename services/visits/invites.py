"""iCalendar invites for agreed visits: Europe/Helsinki with its VTIMEZONE, a stable UID,
SEQUENCE raised on every change, METHOD:CANCEL when the visit is cancelled."""

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


def uid_of(visit_id: int, domain: str = "vertaisbot") -> str:
    return f"visit-{visit_id}@{domain}"


def build_ics(invite: Invite, *, now: datetime) -> bytes:
    start_time, end_time, days = HOURS.get(invite.length, HOURS["day"])
    start = datetime.combine(invite.day, start_time, tzinfo=HELSINKI)
    end = datetime.combine(invite.day + timedelta(days=days - 1), end_time, tzinfo=HELSINKI)
    cal = Calendar()
    cal.add("prodid", "-//vertaisbot//vertaisoppiminen//FI")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if invite.cancelled else "PUBLISH")
    cal.add_component(
        Timezone.from_tzid(
            "Europe/Helsinki", first_date=date(start.year, 1, 1), last_date=date(end.year + 1, 1, 1)
        )
    )
    event = Event()
    event.add("uid", uid_of(invite.visit_id, invite.domain))
    event.add("sequence", invite.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", invite.summary)
    event.add("location", invite.location)
    event.add("description", invite.description)
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()

from datetime import UTC, date, datetime

from icalendar import Calendar

from services.visits.invites import Invite, build_ics, uid_of

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def invite(**kw: object) -> Invite:
    values: dict[str, object] = dict(
        visit_id=42,
        day=date(2026, 12, 2),
        length="day",
        summary="Vertaisoppimisvierailu: omatoimikirjastot (Joroisten kirjasto)",
        location="Joroisten kirjasto",
        description="Mitä haluan oppia: valvonta, opastus; pilkut ja \\ kenoviivat",
        sequence=0,
    )
    values.update(kw)
    return Invite(**values)  # type: ignore[arg-type]


def parse(ics: bytes) -> Calendar:
    return Calendar.from_ical(ics)


def test_invite_has_helsinki_timezone_stable_uid_and_sequence() -> None:
    cal = parse(build_ics(invite(), now=NOW))
    assert str(cal["METHOD"]) == "PUBLISH"
    timezones = [c for c in cal.walk("VTIMEZONE")]
    assert len(timezones) == 1 and str(timezones[0]["TZID"]) == "Europe/Helsinki"
    assert timezones[0].walk("STANDARD") and timezones[0].walk("DAYLIGHT")
    event = cal.walk("VEVENT")[0]
    assert str(event["UID"]) == uid_of(42) == "visit-42@vertaisbot"
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 7200  # EET in December
    assert (start.hour, event.decoded("DTEND").hour) == (9, 16)
    assert "kenoviivat" in str(event["DESCRIPTION"])


def test_update_keeps_uid_and_raises_sequence_and_cancel_uses_method_cancel() -> None:
    first = parse(build_ics(invite(), now=NOW)).walk("VEVENT")[0]
    moved = parse(build_ics(invite(day=date(2026, 12, 16), sequence=1), now=NOW)).walk("VEVENT")[0]
    cancelled_cal = parse(build_ics(invite(sequence=2, cancelled=True), now=NOW))
    cancelled = cancelled_cal.walk("VEVENT")[0]
    assert first["UID"] == moved["UID"] == cancelled["UID"]
    assert [int(e["SEQUENCE"]) for e in (first, moved, cancelled)] == [0, 1, 2]
    assert str(cancelled_cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"


def test_a_two_day_visit_ends_on_its_second_day_and_summer_time_is_eest() -> None:
    event = parse(build_ics(invite(day=date(2027, 6, 8), length="two_days"), now=NOW)).walk("VEVENT")[-1]
    assert event.decoded("DTEND").date() == date(2027, 6, 9)
    assert event.decoded("DTSTART").utcoffset().total_seconds() == 10800


def test_a_two_day_visit_is_one_event_a_day_with_each_days_hours() -> None:
    cal = parse(build_ics(invite(day=date(2027, 6, 8), length="two_days"), now=NOW))
    events = cal.walk("VEVENT")
    assert [(e.decoded("DTSTART").hour, e.decoded("DTEND").hour) for e in events] == [(9, 16), (9, 16)]
    assert [e.decoded("DTSTART").date() for e in events] == [date(2027, 6, 8), date(2027, 6, 9)]
    assert [str(e["UID"]) for e in events] == ["visit-42@vertaisbot", "visit-42-day2@vertaisbot"]
    cancelled = parse(build_ics(invite(day=date(2027, 6, 8), length="two_days", cancelled=True), now=NOW))
    assert [str(e["STATUS"]) for e in cancelled.walk("VEVENT")] == ["CANCELLED", "CANCELLED"]

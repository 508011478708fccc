"""Proposing a visit: the form's input and limits, the host and topic pickers, and `propose`,
which checks every field at once (dates on working days the host is open, amounts within limits)
and saves the proposal, or saves nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    HostOffer,
    Library,
    PartyState,
    Topic,
    TopicStatus,
    Visit,
    VisitDate,
    VisitStatus,
    offer_topics,
)
from services.catalogue import closed_periods, libraries
from services.common import audit, money, workdays
from services.common.errors import InvalidInput
from services.common.text import visible
from services.money import costs
from services.outbox import visit_outbox
from services.visits import stop_info as stops
from services.visits import travellers, visit_reminders
from services.visits.visit_card import Change, HostChoice, host_order, read_card

LENGTHS = ("half_day", "day", "two_days")


TRAVEL_MODES = ("public", "car", "other")


MAX_DATES = 3


MAX_KM = Decimal("5000")


MAX_EUR = Decimal("10000")


MAX_TEXT = 1500


@dataclass
class ProposalInput:
    topic_id: int | None
    host_library_id: int | None
    learn: str
    dates: list[date | None]
    length: str | None
    travel_mode: str | None
    km: str = ""
    tickets: str = ""
    accommodation: str = ""
    supervisor_id: str | None = None
    note: str = ""
    colleagues: Sequence[str] = ()  # 0-5 who come along
    colleague_supervisors: Mapping[str, str | None] = field(default_factory=dict)  # else the visitor's
    unknown_people: frozenset[str] = frozenset()  # ids the chat platform says are no one to ask
    stops: Sequence[tuple[int, int]] = ()  # a study trip's further (library, topic) stops, 0-3


def host_choices(
    session_factory: sessionmaker[Session],
    *,
    visitor_library_id: int | None,
    topic_id: int | None,
    query: str = "",
    limit: int = 100,
    now: datetime | None = None,
) -> list[HostChoice]:
    with session_factory() as session:
        ordered = host_order(
            session, visitor_library_id=visitor_library_id, topic_id=topic_id, limit=10_000, now=now
        )
    words = [w for w in query.lower().split() if w]
    if words:
        ordered = [c for c in ordered if all(w in c.name.lower() for w in words)]
    return ordered[:limit]


def stop_choices(
    session_factory: sessionmaker[Session], *, visitor_library_id: int | None, query: str = ""
) -> list[stops.StopChoice]:
    """A study trip's further stops to pick from (`stop_info.choices`)."""
    with session_factory() as session:
        return stops.choices(session, visitor_library_id=visitor_library_id, query=query)


def active_topics(session_factory: sessionmaker[Session]) -> list[Topic]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(Topic)
                .where(Topic.status == TopicStatus.ACTIVE)
                .order_by(Topic.category_id, Topic.position)
            )
        )


def guess_topic(topics: Sequence[Topic], words: str) -> Topic | None:
    """The topic whose name or synonyms contain the typed words (a simple first guess)."""
    text = words.strip().lower()
    if not text:
        return None
    for topic in topics:
        names = [topic.name_fi, topic.name_sv, topic.name_en, *topic.synonyms.splitlines()]
        if any(text in name.lower() or (name and name.lower() in text) for name in names if name):
            return topic
    return None


def check_dates(
    session: Session,
    days: Sequence[date | None],
    *,
    host_library_id: int | None,
    today: date,
    required: bool = True,
    months_ahead: int = workdays.MONTHS_AHEAD,
    length: str | None = None,
    topic_id: int | None = None,
) -> tuple[list[date], dict[str, tuple[str, dict[str, object]]]]:
    """The good dates and the field errors (`date_1`...). Every day of the visit counts: a
    two-day visit's second day too must be a working day on which the host is open. A host
    whose offer of the topic names its weekdays takes visitors on those only."""
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    good: list[date] = []
    seen: set[date] = set()
    weekdays = offered_weekdays(session, host_library_id, topic_id)
    for i, day in enumerate(days[:MAX_DATES], start=1):
        name = f"date_{i}"
        if day is None:
            continue
        problem = workdays.why_not(day, today=today, months_ahead=months_ahead)
        if problem is None and day in seen:
            problem = ("visits.error.date_duplicate", {})
        if problem is None and weekdays is not None and not weekdays & (1 << day.weekday()):
            problem = ("visits.error.date_weekday", {"weekdays": weekday_numbers(weekdays)})
        if problem is None and host_library_id is not None:
            problem = _closed(session, host_library_id, day)
        if problem is None and length == "two_days":
            second = day + timedelta(days=1)
            why = workdays.why_not(second, today=today, months_ahead=months_ahead)
            if why is None and host_library_id is not None:
                why = _closed(session, host_library_id, second)
            if why is not None:
                problem = ("visits.error.second_day", {"day": f"{second.day}.{second.month}."})
        seen.add(day)
        if problem is None:
            good.append(day)
        else:
            errors[name] = problem
    if required and not good and not errors:
        errors["date_1"] = ("visits.error.date_missing", {})
    return good, errors


def _closed(session: Session, library_id: int, day: date) -> tuple[str, dict[str, object]] | None:
    period = libraries.closed_period_on(session, library_id, day)
    if period is None:
        return None
    until = f"{period.ends_on.day}.{period.ends_on.month}.{period.ends_on.year}"
    if period.note and period.note != closed_periods.NOT_UNTIL_NOTE:
        return ("visits.error.date_closed_reason", {"until": until, "reason": period.note})
    return ("visits.error.date_closed", {"until": until})


def offered_weekdays(session: Session, library_id: int | None, topic_id: int | None) -> int | None:
    """The weekdays (bit 0 = Monday) on which the library's offers of the topic take visitors,
    or None when it offers no such thing (any working day then)."""
    if library_id is None or topic_id is None:
        return None
    masks = list(
        session.scalars(
            select(HostOffer.weekdays)
            .join(offer_topics, offer_topics.c.offer_id == HostOffer.id)
            .where(HostOffer.library_id == library_id, offer_topics.c.topic_id == topic_id)
        )
    )
    if not masks:
        return None
    union = 0
    for mask in masks:
        union |= mask
    return union & 0b11111 or None


def weekday_numbers(mask: int) -> list[int]:
    """The weekdays of a mask (0 = Monday), for the message to name in the user's language."""
    return [day for day in range(5) if mask & (1 << day)]


def parse_money(
    form: ProposalInput, errors: dict[str, tuple[str, dict[str, object]]], *, length: str | None
) -> tuple[Decimal, Decimal, Decimal]:
    """Kilometres, tickets and accommodation in all. The form asks for the price of a night, and
    only for a visit with nights (two days: one night); a one-day visit has no accommodation."""
    values = []
    for name, text, maximum in (
        ("km", form.km, MAX_KM),
        ("tickets", form.tickets, MAX_EUR),
        ("accommodation", form.accommodation, MAX_EUR),
    ):
        value = money.parse_amount(text, maximum=maximum)
        if value is None:
            errors[name] = ("visits.error.amount", {"max": str(maximum)})
            value = Decimal("0")
        values.append(value)
    nights = costs.nights_of(length or "")
    if nights == 0 and values[2] > 0 and "accommodation" not in errors:
        errors["accommodation"] = ("visits.error.accommodation_one_day", {})
    return values[0], values[1], values[2] * nights


def propose(
    session_factory: sessionmaker[Session],
    form: ProposalInput,
    *,
    visitor_id: str,
    home_library_id: int | None,
    now: datetime,
    months_ahead: int = workdays.MONTHS_AHEAD,
) -> Change:
    """Validate every field (all errors at once) and save the proposal; nothing is saved on error.
    A date may be at most `months_ahead` months ahead."""
    today = workdays.local_today(now)
    with session_factory.begin() as session:
        errors: dict[str, tuple[str, dict[str, object]]] = {}
        topic = session.get(Topic, form.topic_id) if form.topic_id else None
        if topic is None or topic.status != TopicStatus.ACTIVE:
            errors["topic"] = ("visits.error.topic", {})
        home = session.get(Library, home_library_id) if home_library_id else None
        host = session.get(Library, form.host_library_id) if form.host_library_id else None
        if host is None:
            errors["host"] = ("visits.error.host", {})
        elif home is not None and host.id == home.id:
            errors["host"] = ("visits.error.host_is_home", {})
        elif home is not None and host.region_id != home.region_id:
            errors["host"] = ("visits.error.host_region", {})
        elif not libraries.contacts_of(session, host.id):
            errors["host"] = ("visits.error.host_no_contacts", {"library": host.name})
        learn = (form.learn or "").strip()
        if not visible(learn):  # spaces, no-break spaces or zero-width ones say nothing
            errors["learn"] = ("visits.error.learn", {})
        elif len(learn) > MAX_TEXT:
            errors["learn"] = ("visits.error.too_long", {"max": MAX_TEXT})
        if len(form.note or "") > MAX_TEXT:
            errors["note"] = ("visits.error.too_long", {"max": MAX_TEXT})
        days, date_errors = check_dates(
            session,
            form.dates,
            host_library_id=host.id if host else None,
            today=today,
            months_ahead=months_ahead,
            length=form.length,
            topic_id=topic.id if topic else None,
        )
        errors.update(date_errors)
        further, stop_error = stops.check(
            session, form.stops, home=home, host_library_id=host.id if host else None
        )
        if stop_error is not None:
            errors["stops"] = stop_error
        for library, stop_topic in further:  # every day of the trip suits every stop
            _, stop_date_errors = check_dates(
                session,
                form.dates,
                host_library_id=library.id,
                today=today,
                required=False,
                months_ahead=months_ahead,
                length=form.length,
                topic_id=stop_topic.id,
            )
            for name in stop_date_errors:
                errors.setdefault(name, ("visits.error.date_stop", {"library": library.name}))
        if form.length not in LENGTHS:
            errors["length"] = ("visits.error.length", {})
        if form.travel_mode not in TRAVEL_MODES:
            errors["travel"] = ("visits.error.travel", {})
        km, tickets, accommodation = parse_money(form, errors, length=form.length)
        if not form.supervisor_id:
            errors["supervisor"] = ("visits.error.supervisor", {})
        elif form.supervisor_id == visitor_id:
            errors["supervisor"] = ("visits.error.supervisor_self", {})
        colleagues, colleague_errors = travellers.check_colleagues(
            form.colleagues,
            form.colleague_supervisors,
            visitor_id=visitor_id,
            visitor_supervisor=form.supervisor_id,
            unknown=form.unknown_people,
        )
        errors.update(colleague_errors)
        if home is None:
            errors.setdefault("host", ("visits.error.no_home_library", {}))
        if errors:
            raise InvalidInput(errors)
        assert topic is not None and host is not None and home is not None and form.supervisor_id
        visit = Visit(
            visitor_id=visitor_id,
            home_library_id=home.id,
            host_library_id=host.id,
            topic_id=topic.id,
            learn=learn,
            length=form.length,
            travel_mode=form.travel_mode,
            estimated_km=km,
            ticket_cost=tickets,
            accommodation_cost=accommodation,
            supervisor_id=form.supervisor_id,
            note_to_host=(form.note or "").strip(),
            status=VisitStatus.PROPOSED,
            supervisor_state=PartyState.PENDING,
            host_state=PartyState.PENDING,
            funding_state=PartyState.PENDING,
            round=1,
            ics_sequence=0,
            invite_sent=False,
            created_at=now,
            updated_at=now,
            dates=[VisitDate(day=day, source="visitor", active=True) for day in days],
            travellers=travellers.make(visitor_id, form.supervisor_id, colleagues),
            stops=stops.make(further),
        )
        session.add(visit)
        session.flush()
        audit.record(
            session,
            now=now,
            actor=visitor_id,
            action="visit.propose",
            entity="visit",
            entity_id=visit.id,
            details={
                "host": host.id,
                "topic": topic.id,
                "dates": [d.isoformat() for d in days],
                "colleagues": [user for user, _ in colleagues],
                "stops": [[library.id, stop_topic.id] for library, stop_topic in further],
            },
        )
        visit_reminders.sync(session, visit, now)
        owed = visit_outbox.owe(session, visit, event="proposed", actor=visitor_id, invite=None, now=now)
        card = read_card(session, visit)
    return Change(card, "proposed", visitor_id, outbox=owed)

"""When a visit's dates stop working, and the visitor's new plans for it.

A date is never confirmed once it has passed or the host has closed it since (`gone`, checked at
decision time). A press on such a date is refused while another given date still works
(`refuse_or_lapse`); when none does, the dates lapse (host `lapsed`) and the visitor gives new
ones (`redate`), which asks the host again; a late last yes on a day that has gone lets the day
be chosen again among the rest (`date_gone`). When the host does not answer in time, the visitor
may give other dates (`redate`) or send the request on to another library that offers the topic
(`forward`). The transitions are built of `services.visits.transitions`, as the state machine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from models import PartyState, Visit, VisitDate
from services.catalogue import libraries
from services.common import workdays
from services.common.errors import InvalidInput
from services.people.coordinators import Scope
from services.visits import deadlines, travellers
from services.visits.lapses import forward_choices
from services.visits.proposing import ProposalInput, check_dates, parse_money
from services.visits.transitions import (
    AlreadyDecided,
    already,
    check_state,
    check_visitor,
    record,
    transition,
)
from services.visits.visit_card import Change, estimate


def check_visit_dates(
    session: Session, visit: Visit, days: Sequence[date | None], now: datetime, months_ahead: int
) -> tuple[list[date], dict[str, tuple[str, dict[str, object]]]]:
    """`check_dates` for new dates of this visit: its host, length and topic, from today on."""
    return check_dates(
        session,
        days,
        host_library_id=visit.host_library_id,
        today=workdays.local_today(now),
        months_ahead=months_ahead,
        length=visit.length,
        topic_id=visit.topic_id,
    )


def gone(session: Session, visit: Visit, day: date, now: datetime) -> bool:
    """Can `day` no longer be the visit's day? It has come or passed, or the host has since
    closed it (a closed period on either day of a two-day visit)."""
    if day <= workdays.local_today(now):
        return True
    days = [day, day + timedelta(days=1)] if visit.length == "two_days" else [day]
    return any(libraries.closed_period_on(session, visit.host_library_id, d) is not None for d in days)


def refuse_or_lapse(
    session: Session, visit: Visit, day: date, source: str, actor: str, now: datetime
) -> tuple[str, str | None]:
    """A press on a day that no longer works: refused (nothing changes) while another of the
    dates given by `source` still works; else the dates lapse and the visitor gives new ones."""
    others = [d for d in visit.dates if d.active and d.source == source and d.day != day]
    if any(not gone(session, visit, d.day, now) for d in others):
        raise AlreadyDecided(visit.id, "visits.error.date_gone", date=f"{day.day}.{day.month}.")
    return lapse(session, visit, actor, now)


def lapse(session: Session, visit: Visit, actor: str, now: datetime) -> tuple[str, str | None]:
    gone = [d.day.isoformat() for d in visit.dates if d.active]
    for d in visit.dates:
        d.active = False
    visit.chosen_date = None
    visit.host_state = PartyState.LAPSED
    record(session, visit, "dates", actor, "lapsed", "", now, gone)
    return "dates_lapsed", None


def date_gone(session: Session, visit: Visit, actor: str, now: datetime) -> tuple[str, str | None]:
    """The agreed day no longer works at the last yes. While another given date still does, only
    the agreed day goes and the day is chosen again among the rest (by the host from the
    visitor's dates, by the visitor from the host's); else every date lapses."""
    day = visit.chosen_date
    assert day is not None
    source = next((d.source for d in visit.dates if d.active and d.day == day), "visitor")
    rest = [d for d in visit.dates if d.active and d.source == source and d.day != day]
    if not any(not gone(session, visit, d.day, now) for d in rest):
        return lapse(session, visit, actor, now)
    for d in visit.dates:
        if d.day == day or gone(session, visit, d.day, now):
            d.active = False
    visit.chosen_date = None
    visit.host_state = PartyState.PENDING if source == "visitor" else PartyState.COUNTERED
    record(session, visit, "dates", actor, "date_gone", "", now, [day.isoformat()])
    visit.round += 1  # asked again: fresh nudges and a deadline, the old buttons count no more
    return "date_gone", None


def redate(
    session_factory: sessionmaker[Session],
    visit_id: int,
    days: Sequence[date | None],
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
    months_ahead: int = workdays.MONTHS_AHEAD,
) -> Change:
    """The visitor (or a coordinator) gives new dates (1-3) after the old ones lapsed, or while
    the host has not answered yet (its deadline passed, say: the new dates replace the old); the
    host is asked again, in a new round (fresh nudges; the old round's buttons no longer count)."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        # the host has not answered in time (a deadline has passed): the new dates replace the old
        waiting = (
            visit.host_state == PartyState.PENDING
            and visit.chosen_date is None
            and _lapsed(session, visit, deadlines.PARTIES)
        )
        check_state(session, visit, "host" if waiting else "visitor", round_)
        if visit.host_state != PartyState.LAPSED and not waiting:
            raise already(session, visit, "visitor")
        good, errors = check_visit_dates(session, visit, days, now, months_ahead)
        if errors:
            raise InvalidInput(errors)
        for d in visit.dates:
            d.active = False
        visit.dates.extend(VisitDate(day=day, source="visitor", active=True) for day in good)
        visit.round += 1
        visit.host_state = PartyState.PENDING
        travellers.ask_again(visit)  # new dates: the supervisors again, funding if it costs more
        if visit.funded_cost is not None and estimate(session, visit, good[0]).total > visit.funded_cost:
            visit.funding_state = PartyState.PENDING
        record(session, visit, "visitor", actor, "redated", "", now, [d.isoformat() for d in good])
        return "redated", None

    return transition(session_factory, visit_id, actor, now, apply)


def forward(
    session_factory: sessionmaker[Session],
    visit_id: int,
    library_id: int | None,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
    km: str | None = None,
) -> Change:
    """The host did not answer in time: the visitor sends the request on to another library that
    offers the topic, with its answers so far (the supervisors' consent stands; funding is asked
    again only if the cost rises). The dates that suit the new host go with it; a new round."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        check_state(session, visit, "host", round_)
        if visit.chosen_date is not None or not _lapsed(session, visit, ("host",)):
            raise already(session, visit, "host")  # sent on only once the host's time has passed
        choices = {c.library_id: c for c in forward_choices(session, visit, now)}
        errors: dict[str, tuple[str, dict[str, object]]] = {}
        if library_id not in choices:
            raise InvalidInput({"host": ("visits.forward.not_offered", {})})
        days = [d.day for d in visit.dates if d.active and d.source == "visitor"]
        good, _ = check_dates(
            session,
            days,
            host_library_id=library_id,
            today=workdays.local_today(now),
            length=visit.length,
            topic_id=visit.topic_id,
        )
        if not good:
            errors["host"] = ("visits.forward.no_date", {"host": choices[library_id].name})
        form = ProposalInput(
            None,
            None,
            "",
            [],
            None,
            None,
            km=str(visit.estimated_km) if km is None else km,
            tickets="0",
            accommodation="0",
        )
        new_km, _tickets, _night = parse_money(form, errors, length=None)
        if errors:
            raise InvalidInput(errors)
        old = visit.host_library_id
        for d in visit.dates:
            d.active = d.active and d.source == "visitor" and d.day in good
        visit.host_library_id = library_id
        visit.estimated_km = new_km
        visit.round += 1
        if visit.funding_state == PartyState.APPROVED and (
            visit.funded_cost is None or estimate(session, visit, good[0]).total > visit.funded_cost
        ):
            visit.funding_state = PartyState.PENDING
        record(session, visit, "host", actor, "forwarded", "", now, extra={"from": old, "to": library_id})
        return "forwarded", None

    return transition(session_factory, visit_id, actor, now, apply)


def _lapsed(session: Session, visit: Visit, parties: Sequence[str]) -> bool:
    """Has the deadline of one of these parties passed in the visit's round?"""
    return any(
        d.lapsed and d.party in parties for d in deadlines.deadlines_of(session, visit.id, visit.round)
    )

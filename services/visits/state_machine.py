"""The visit state machine.

    proposed --(supervisor, host, funding decide in parallel)--> confirmed
    host proposes other dates (countered) --> the visitor picks one (or cancels)
    anyone declines --> declined;  the visitor or a coordinator cancels --> cancelled
    move (visitor or coordinator): a new date asks the host and the supervisor again, and funding
    again only if the estimated cost rises.
    lapse (`services.visits.replanning`): a date is never confirmed once it has passed or the
    host has closed it since; the visitor gives new dates (`redate`) or, when the host does not
    answer in time, sends the request on to another library (`forward`).

Every transition runs in one unit of work that locks the visit row (`SELECT ... FOR UPDATE`)
and is guarded by the `version` column, so two presses at once yield exactly one decision.
Every decision goes into the audit log, and every transition ends with
`visit_reminders.sync`, which plans or cancels the visit's reminders for its new state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    PartyState,
    StaffProfile,
    Visit,
    VisitDate,
    VisitStatus,
)
from services.catalogue import libraries
from services.common import workdays
from services.common.errors import InvalidInput, NotAllowed, NotFound
from services.money import costs
from services.outbox import visit_outbox
from services.people import substitutes
from services.people.coordinators import Scope, covers
from services.visits import substitution, travellers
from services.visits.confirming import maybe_confirm
from services.visits.conflicts import conflict_of
from services.visits.proposing import ProposalInput, parse_money
from services.visits.replanning import check_visit_dates, gone, refuse_or_lapse
from services.visits.transitions import (
    NOT_YOURS,
    PARTIES,
    AlreadyDecided,
    already,
    check_open,
    check_state,
    check_visitor,
    end,
    record,
    transition,
)
from services.visits.visit_card import Change, VisitCard, estimate, load, read_card

FUNDING_OTHER_REGION = "visits.funding.other_region"
SUBSTITUTE_OWN_TRIP = "visits.substitute.own_trip"


def check_may_decide(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    party: str,
    actor: str,
    is_coordinator: bool | Scope,
    round_: int | None = None,
    now: datetime,
) -> VisitCard:
    """Raise NotAllowed / AlreadyDecided now (before opening a form); return the visit."""
    with session_factory() as session:
        visit = load(session, visit_id)
        _check_party(session, visit, party, actor, is_coordinator, now)
        check_state(session, visit, party, round_)
        return read_card(session, visit)


def decide(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    party: str,
    approve: bool,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
    date_id: int | None = None,
    reason: str = "",
) -> Change:
    """The supervisor, a host contact or a coordinator (funding) approves or declines."""
    if party not in PARTIES:
        raise NotFound()

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        behalf = _check_party(session, visit, party, actor, is_coordinator, now)
        check_state(session, visit, party, round_)
        if party == "supervisor":
            return _consent(session, visit, actor, behalf, approve=approve, reason=reason, now=now)
        if approve and party == "host":
            chosen = next((d for d in visit.dates if d.id == date_id and d.active), None)
            if chosen is None:
                raise already(session, visit, party)
            if gone(session, visit, chosen.day, now):
                return refuse_or_lapse(session, visit, chosen.day, "visitor", actor, now)
            visit.chosen_date = chosen.day
        outcome = "approved" if approve else "declined"
        setattr(visit, f"{party}_state", PartyState.APPROVED if approve else PartyState.DECLINED)
        if approve and party == "funding":
            visit.funded_cost = estimate(session, visit).total
        record(session, visit, party, actor, outcome, reason, now, on_behalf_of=_first(behalf))
        if not approve:
            return f"{party}_declined", end(visit, VisitStatus.DECLINED)
        return maybe_confirm(session, visit, f"{party}_approved", actor, now)

    return transition(session_factory, visit_id, actor, now, apply)


def counter(
    session_factory: sessionmaker[Session],
    visit_id: int,
    days: Sequence[date | None],
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
    reason: str = "",
    months_ahead: int = workdays.MONTHS_AHEAD,
) -> Change:
    """The host proposes other dates (1-3); the visitor then picks one."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        behalf = _check_party(session, visit, "host", actor, is_coordinator, now)
        check_state(session, visit, "host", round_)
        good, errors = check_visit_dates(session, visit, days, now, months_ahead)
        if errors:
            raise InvalidInput(errors)
        for d in visit.dates:
            if d.source == "host":
                d.active = False
        visit.dates.extend(VisitDate(day=day, source="host", active=True) for day in good)
        visit.host_state = PartyState.COUNTERED
        record(
            session,
            visit,
            "host",
            actor,
            "countered",
            reason,
            now,
            [d.isoformat() for d in good],
            on_behalf_of=_first(behalf),
        )
        return "host_countered", None

    return transition(session_factory, visit_id, actor, now, apply)


def pick(
    session_factory: sessionmaker[Session],
    visit_id: int,
    date_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
) -> Change:
    """The visitor picks one of the host's dates."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        check_state(session, visit, "visitor", round_)
        chosen = next((d for d in visit.dates if d.id == date_id and d.active and d.source == "host"), None)
        if chosen is None:
            raise already(session, visit, "visitor")
        if gone(session, visit, chosen.day, now):
            return refuse_or_lapse(session, visit, chosen.day, "host", actor, now)
        visit.chosen_date = chosen.day
        visit.host_state = PartyState.APPROVED
        record(session, visit, "visitor", actor, "picked", "", now, [chosen.day.isoformat()])
        return maybe_confirm(session, visit, "visitor_picked", actor, now)

    return transition(session_factory, visit_id, actor, now, apply)


def cancel(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    reason: str = "",
) -> Change:
    """The visitor or a coordinator calls the visit off, before it happens."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        check_open(session, visit, now)
        record(session, visit, "visitor", actor, "cancelled", reason, now)
        return "cancelled", end(visit, VisitStatus.CANCELLED)

    return transition(session_factory, visit_id, actor, now, apply)


def move(
    session_factory: sessionmaker[Session],
    visit_id: int,
    day: date | None,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    km: str | None = None,
    tickets: str | None = None,
    accommodation: str | None = None,
    months_ahead: int = workdays.MONTHS_AHEAD,
) -> Change:
    """A new date asks the host and the supervisor again; funding again only if the cost rises."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        check_open(session, visit, now)
        if visit.chosen_date is None:
            raise AlreadyDecided(visit.id, "visits.error.nothing_to_move")
        good, errors = check_visit_dates(session, visit, [day], now, months_ahead)
        if not errors and good and good[0] == visit.chosen_date:
            errors["date_1"] = ("visits.error.date_same", {})
        form = ProposalInput(
            None,
            None,
            "",
            [],
            None,
            None,
            km=str(visit.estimated_km) if km is None else km,
            tickets=str(visit.ticket_cost) if tickets is None else tickets,
            accommodation=_night_price(session, visit) if accommodation is None else accommodation,
        )
        new_km, new_tickets, new_accommodation = parse_money(form, errors, length=visit.length)
        if accommodation is None and not costs.nights_of(visit.length):
            # a one-day visit proposed before nights were tied to two days keeps its accommodation
            new_accommodation = visit.accommodation_cost
        if errors:
            raise InvalidInput(errors)
        old = visit.chosen_date
        visit.estimated_km, visit.ticket_cost, visit.accommodation_cost = (
            new_km,
            new_tickets,
            new_accommodation,
        )
        for d in visit.dates:
            d.active = False
        visit.dates.append(VisitDate(day=good[0], source="visitor", active=True))
        visit.chosen_date = None
        visit.round += 1
        visit.status = VisitStatus.PROPOSED
        visit.host_state = PartyState.PENDING
        visit.supervisor_state = PartyState.PENDING
        travellers.ask_again(visit)
        if visit.funding_state != PartyState.APPROVED or (
            visit.funded_cost is None or estimate(session, visit, good[0]).total > visit.funded_cost
        ):
            visit.funding_state = PartyState.PENDING
        record(session, visit, "visitor", actor, "moved", "", now, [old.isoformat(), good[0].isoformat()])
        if visit.invite_sent:  # calendars follow at once: the new day, tentative until agreed
            visit.ics_sequence += 1
            return "moved", "tentative"
        return "moved", None

    return transition(session_factory, visit_id, actor, now, apply)


def _night_price(session: Session, visit: Visit) -> str:
    """The price of a night as the move form shows it ("" for a visit without nights)."""
    cost = estimate(session, visit)
    return str(cost.night_price) if cost.nights else ""


def _first(people: list[str]) -> str | None:
    return people[0] if people else None


def _check_party(
    session: Session, visit: Visit, party: str, actor: str, is_coordinator: bool | Scope, now: datetime
) -> list[str]:
    """Who may act for `party`. A coordinator acts only on the visits of their own region. Nobody
    decides the host's side or the funding of a visit they make or whose visitor they supervise
    (not even as the host's contact or a coordinator). A substitute (sijainen) decides for a
    supervisor or host contact away today, under the same rules; returns those they stand in for
    (empty: the actor decides as themselves)."""
    today = workdays.local_today(now)
    behalf = substitution.stands_in(session, visit, party, actor, today)
    if party == "supervisor":  # each supervisor for their own people on the visit
        allowed = actor in travellers.supervisors_of(visit) or bool(behalf)
        if not allowed and substitutes.on_behalf_of(
            session, actor, travellers.waiting_supervisors(visit), today
        ):
            raise NotAllowed(SUBSTITUTE_OWN_TRIP)  # a substitute never consents to their own trip
    elif party == "host":
        contact = libraries.is_contact(session, visit.host_library_id, actor)
        if contact:
            behalf = []
        allowed = (
            contact
            or bool(behalf)
            or covers(is_coordinator, libraries.region_of(session, visit))
            or bool(
                substitutes.on_behalf_of(
                    session, actor, libraries.contacts_of(session, visit.host_library_id), today
                )
            )
        )
        conflict = conflict_of(
            party,
            actor,
            visitor_id=visit.visitor_id,
            supervisor_id=visit.supervisor_id,
            others=travellers.everyone(visit),
        )
        if allowed and conflict:
            raise NotAllowed(conflict)
    elif party == "funding":
        if is_coordinator and not covers(is_coordinator, libraries.region_of(session, visit)):
            raise NotAllowed(FUNDING_OTHER_REGION)
        conflict = conflict_of(
            party,
            actor,
            visitor_id=visit.visitor_id,
            supervisor_id=visit.supervisor_id,
            others=travellers.everyone(visit),
        )
        if is_coordinator and conflict:
            raise NotAllowed(conflict)
        allowed = bool(is_coordinator)
    else:
        allowed = actor == visit.visitor_id or covers(is_coordinator, libraries.region_of(session, visit))
    if not allowed:
        raise NotAllowed(NOT_YOURS)
    return behalf


def _consent(
    session: Session,
    visit: Visit,
    actor: str,
    behalf: list[str],
    *,
    approve: bool,
    reason: str,
    now: datetime,
) -> tuple[str, str | None]:
    """A supervisor decides once for all of their people on the visit (a substitute for those of
    each supervisor they stand in for). The visitor's supervisor declining ends the visit;
    another declining takes their people off it, and it goes on."""
    waiting = travellers.waiting_supervisors(visit)
    bosses = [boss for boss in [actor, *behalf] if boss in waiting]
    if not bosses:
        raise already(session, visit, "supervisor")
    ends = not approve and travellers.visitor_of(visit).supervisor_id in bosses
    outcome = "approved" if approve else "declined"
    for boss in bosses:
        people = travellers.consent(visit, boss, approve=approve, now=now)
        record(
            session,
            visit,
            "supervisor",
            actor,
            outcome,
            reason,
            now,
            people=people,
            on_behalf_of=None if boss == actor else boss,
        )
    if ends:
        visit.supervisor_state = PartyState.DECLINED
        return "supervisor_declined", end(visit, VisitStatus.DECLINED)
    if not approve:
        _recost(session, visit)
        event, invite = maybe_confirm(session, visit, "colleagues_declined", actor, now)
        if event != "colleagues_declined":  # the last yes was this: the decline is told on its own
            params = {
                "event": "colleagues_declined",
                "actor": actor,
                "invite": None,
                "sequence": visit.ics_sequence,
            }
            visit_outbox.owe_row(
                session, kind=visit_outbox.SYNC, visit_id=visit.id, params=params, now=now, claimed=False
            )
        return event, invite
    return maybe_confirm(session, visit, "supervisor_approved", actor, now)


def _recost(session: Session, visit: Visit) -> None:
    """Fewer travellers cost less: an approved funding follows the new estimate down."""
    if visit.funding_state == PartyState.APPROVED and visit.funded_cost is not None:
        visit.funded_cost = min(visit.funded_cost, estimate(session, visit).total)


def hand_over(
    session_factory: sessionmaker[Session],
    visit_id: int,
    to: str,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
) -> tuple[Change, list[str]]:
    """A coordinator of the region hands the consents still owed to another supervisor of the
    travellers' library (a supervisor on holiday); never to themselves, nor to anyone on the trip.
    Returns the change and the supervisors it was taken from (to be told)."""
    taken: list[str] = []

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        if not covers(is_coordinator, libraries.region_of(session, visit)):
            raise NotAllowed(NOT_YOURS)
        check_state(session, visit, "supervisor", None)
        if to == actor:
            raise InvalidInput.one("to", "visits.handover.not_yourself")
        if to in {t.user_id for t in visit.travellers}:
            raise InvalidInput.one("to", "visits.handover.on_the_trip")
        home = session.scalar(select(StaffProfile.home_library_id).where(StaffProfile.slack_user_id == to))
        if home is not None and home != visit.home_library_id:  # unknown: taken on the coordinator's word
            raise InvalidInput.one("to", "visits.handover.other_library")
        owed = [boss for boss in travellers.waiting_supervisors(visit) if boss != to]
        if not owed:
            raise already(session, visit, "supervisor")
        for traveller in travellers.active(visit):
            if traveller.supervisor_id in owed and traveller.consent == PartyState.PENDING:
                traveller.supervisor_id = to
        if visit.supervisor_id in owed:
            visit.supervisor_id = to
        record(session, visit, "supervisor", actor, "handed_over", "", now, people=[*owed, to])
        taken.extend(owed)
        return "handed_over", None

    return transition(session_factory, visit_id, actor, now, apply), taken


def withdraw(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    actor: str,
    now: datetime,
) -> Change:
    """A colleague leaves the trip alone; it goes on for the others, its cost recomputed (the
    visitor, whose trip it is, cancels it instead)."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        mine = next((t for t in travellers.active(visit) if t.user_id == actor and t.position > 0), None)
        if mine is None:
            raise NotAllowed(NOT_YOURS)
        check_open(session, visit, now)
        mine.withdrawn_at = now
        travellers.settle(visit)
        _recost(session, visit)
        record(session, visit, "traveller", actor, "withdrew", "", now, people=[actor])
        if visit.status == VisitStatus.PROPOSED:
            return maybe_confirm(session, visit, "traveller_withdrew", actor, now)
        if visit.invite_sent:  # the one who withdrew has it in their calendar: cancelled for them
            visit.ics_sequence += 1
            return "traveller_withdrew", "withdrawn"
        return "traveller_withdrew", None

    return transition(session_factory, visit_id, actor, now, apply)

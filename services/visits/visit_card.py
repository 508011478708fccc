"""A visit as its messages show it: the card (`read_card`, everything read in one unit of work),
the result of a transition (`Change`), the visit's cost estimate, and the order of the host
libraries offered to pick from (those offering the topic first, in the matcher's order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Library,
    PartyState,
    Topic,
    Visit,
    VisitCost,
    VisitDecision,
    VisitStatus,
)
from services.catalogue import libraries
from services.common import workdays
from services.common.errors import NotFound
from services.find import matching
from services.money import budget, costs
from services.money.budget import BudgetSummary
from services.outbox import visit_outbox
from services.people import coordinators, substitutes
from services.people.substitutes import Away
from services.visits import deadlines, stop_info, travellers
from services.visits.deadlines import Deadline
from services.visits.stop_info import StopInfo
from services.visits.travellers import TravellerInfo


@dataclass(frozen=True)
class DateChoice:
    id: int
    day: date


@dataclass(frozen=True)
class DecisionInfo:
    party: str
    decided_by: str
    outcome: str
    reason: str
    at: datetime
    round: int
    on_behalf_of: str | None = None  # a substitute decided: whose decision it was


@dataclass(frozen=True)
class HostChoice:
    library_id: int
    name: str
    distance_km: float


@dataclass(frozen=True)
class VisitCard:
    """Everything a message about a visit shows, read in one unit of work."""

    id: int
    visitor_id: str
    supervisor_id: str
    home_library_name: str
    host_library_id: int
    host_library_name: str
    topic_id: int
    topic_names: dict[str, str]
    learn: str
    length: str
    travel_mode: str
    cost: costs.CostEstimate
    note_to_host: str
    status: VisitStatus
    supervisor_state: PartyState
    host_state: PartyState
    funding_state: PartyState
    round: int
    chosen_date: date | None
    visitor_dates: tuple[DateChoice, ...]
    host_dates: tuple[DateChoice, ...]
    decisions: tuple[DecisionInfo, ...]
    host_contacts: tuple[str, ...]
    sequence: int
    next_hosts: tuple[HostChoice, ...] = ()
    budget: BudgetSummary | None = None  # the year's budget, shown while funding is undecided
    tickets_bought_by: str | None = None  # the coordinator's desk: who bought the tickets
    invoice_status: str = ""  # not_needed | waiting | received | paid ("" before confirmation)
    costs_recorded: bool = False  # actual costs recorded (the visit is settled)
    version: int = 0  # the visit row's version when this was read (raised by every transition)
    region_id: int = 0  # the visit's region: the visitor's home library's (the host's too)
    # The region's coordinators (None where nobody told the unit of work who they are).
    coordinators: tuple[str, ...] | None = None
    happened: bool | None = None  # after the day: the visitor's answer (None: not given)
    # Who travels: the visitor first, then the colleagues (withdrawn ones too, marked).
    travellers: tuple[TravellerInfo, ...] = ()
    # While it is proposed: by when each party asked in this round answers (`deadlines`).
    deadlines: tuple[Deadline, ...] = ()
    # The deciders' periods away (sijainen) not over when the visit last changed.
    away: tuple[Away, ...] = ()
    # A study trip's further stops (2-4), left-out ones too (`active` False).
    stops: tuple[StopInfo, ...] = ()
    straight_km: float = 0.0  # the route's legs as the crow flies (a hint beside the visitor's km)

    @property
    def trip_stops(self) -> tuple[StopInfo, ...]:
        """The further stops still on the trip."""
        return tuple(s for s in self.stops if s.active)

    @property
    def stops_asked(self) -> bool:
        """Are the further stops' hosts asked (the day agreed with the first host)?"""
        return (
            bool(self.stops)
            and self.chosen_date is not None
            and self.status
            in (
                VisitStatus.PROPOSED,
                VisitStatus.CONFIRMED,
            )
        )

    def stop_at(self, position: int) -> StopInfo | None:
        return next((s for s in self.stops if s.position == position), None)

    @property
    def changeable_stops(self) -> tuple[StopInfo, ...]:
        """Further stops the visitor may leave out or replace: declined, or asked and silent."""
        if self.status != VisitStatus.PROPOSED:
            return ()
        asked = self.chosen_date is not None
        return tuple(
            s
            for s in self.trip_stops
            if s.state == PartyState.DECLINED or (asked and s.state == PartyState.PENDING)
        )

    @property
    def going(self) -> tuple[TravellerInfo, ...]:
        """The active travellers (the visitor, when the card was read without them)."""
        found = tuple(t for t in self.travellers if t.active)
        if found or self.travellers:
            return found
        return (TravellerInfo(self.visitor_id, self.supervisor_id, self.supervisor_state),)

    def deadline_of(self, party: str) -> Deadline | None:
        """The deadline of a party the visit waits for now (None: none, or it is not asked)."""
        if not self.asks(party):
            return None
        return next((d for d in self.deadlines if d.party == party), None)

    @property
    def colleagues(self) -> tuple[TravellerInfo, ...]:
        return tuple(t for t in self.going if t.user_id != self.visitor_id)

    @property
    def supervisors(self) -> tuple[str, ...]:
        """Who consents for the travellers, each once, the visitor's supervisor first."""
        return tuple(dict.fromkeys([self.supervisor_id, *(t.supervisor_id for t in self.going)]))

    def staff_of(self, supervisor: str) -> tuple[TravellerInfo, ...]:
        return tuple(t for t in self.going if t.supervisor_id == supervisor)

    def waits_for_supervisor(self, supervisor: str) -> bool:
        """Does the visit wait for this supervisor's consent for someone of theirs?"""
        return self.asks("supervisor") and any(
            t.consent == PartyState.PENDING for t in self.staff_of(supervisor)
        )

    @property
    def involved(self) -> frozenset[str]:
        """The travellers and their supervisors: none decides the host's side or the funding."""
        people = {self.visitor_id, self.supervisor_id}
        people |= {t.user_id for t in self.travellers} | {t.supervisor_id for t in self.travellers}
        return frozenset(people)

    @property
    def funding_deciders(self) -> tuple[str, ...] | None:
        """Who may decide the funding: the region's coordinators, except the visitor and the
        visitor's supervisor (a conflict of interest). Empty: nobody can; the messages say so."""
        if self.coordinators is None:
            return None
        return tuple(c for c in self.coordinators if c not in self.involved)

    def stand_ins(self, party: str, today: date) -> dict[str, tuple[str, ...]]:
        """Substitute -> those they decide `party` (supervisor or host) for today: the visit
        waits for the person away, and the substitute is not barred (never their own trip; the
        host's side never by anyone the trip involves)."""
        if party == "supervisor":
            owing = [s for s in self.supervisors if self.waits_for_supervisor(s)]
            barred = {t.user_id for t in self.travellers} | {self.visitor_id}
        elif party == "host" and self.asks("host"):
            owing, barred = list(self.host_contacts), set(self.involved)
        else:
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for away in self.away:
            if away.user_id in owing and away.on(today) and away.substitute_id not in barred:
                if away.substitute_id != away.user_id:
                    found[away.substitute_id] = (*found.get(away.substitute_id, ()), away.user_id)
        return found

    def away_until(self, user: str, today: date) -> date | None:
        """The last day of `user`'s period away under way today (None: not away)."""
        return next((a.ends_on for a in self.away if a.user_id == user and a.on(today)), None)

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")

    def state_of(self, party: str) -> PartyState:
        return {"supervisor": self.supervisor_state, "host": self.host_state, "funding": self.funding_state}[
            party
        ]

    def last_decision(self, party: str) -> DecisionInfo | None:
        found = [d for d in self.decisions if d.party == party]
        return found[-1] if found else None

    def last(self) -> DecisionInfo | None:
        return self.decisions[-1] if self.decisions else None

    def asks(self, party: str) -> bool:
        """Does the visit wait for `party` (supervisor/host/funding/visitor) right now?"""
        if self.status != VisitStatus.PROPOSED:
            return False
        if party == "visitor":  # to pick one of the host's dates, or to give new ones
            return self.host_state in (PartyState.COUNTERED, PartyState.LAPSED)
        return self.state_of(party) == PartyState.PENDING

    @property
    def shown_dates(self) -> tuple[date, ...]:
        if self.chosen_date is not None:
            return (self.chosen_date,)
        return tuple(d.day for d in self.visitor_dates)


@dataclass(frozen=True)
class Change:
    """The result of a transition: the visit after it, what happened, and what invite to send."""

    card: VisitCard
    event: str
    actor: str
    invite: str | None = None  # "send" | "cancel" | "tentative" (moved, not yet agreed) | None
    changed: bool = True
    outbox: visit_outbox.Owed | None = None  # what the change owes, claimed by this request


def offering_hosts(
    session: Session, *, visitor_library_id: int | None, topic_id: int, now: datetime
) -> list[HostChoice]:
    """The libraries of the visitor's region that offer the topic, as `etsi` ranks them
    (available before full, nearer, less loaded); the visitor's own library left out."""
    return [
        HostChoice(match.library_id, match.library_name, match.distance_km or 0.0)
        for match in matching.rank_hosts(
            session, topic_id=topic_id, visitor_library_id=visitor_library_id, now=now
        )
        if match.in_region and match.library_id != visitor_library_id
    ]


def host_order(
    session: Session,
    *,
    visitor_library_id: int | None,
    topic_id: int | None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[HostChoice]:
    """Host libraries for the picker: those offering the topic first, in the matcher's order
    (available before full, nearer, less loaded), then the rest of the visitor's region by
    distance."""
    home = session.get(Library, visitor_library_id) if visitor_library_id else None
    ranked: list[HostChoice] = []
    if topic_id is not None and now is not None:
        ranked = offering_hosts(session, visitor_library_id=visitor_library_id, topic_id=topic_id, now=now)
    stmt = select(Library)
    if home is not None:
        stmt = stmt.where(Library.region_id == home.region_id, Library.id != home.id)
    offered = {c.library_id for c in ranked}
    rest = [
        HostChoice(lib.id, lib.name, libraries.distance_km(home, lib) if home else 0.0)
        for lib in session.scalars(stmt)
        if lib.id not in offered
    ]
    rest.sort(key=lambda c: (c.distance_km, c.name))
    return (ranked + rest)[:limit]


def load(session: Session, visit_id: int, *, lock: bool = False) -> Visit:
    stmt = (
        select(Visit)
        .where(Visit.id == visit_id)
        .options(selectinload(Visit.dates), selectinload(Visit.travellers), selectinload(Visit.stops))
    )
    if lock:
        stmt = stmt.with_for_update(of=Visit).execution_options(populate_existing=True)
    visit = session.scalar(stmt)
    if visit is None:
        raise NotFound()
    return visit


def estimate(session: Session, visit: Visit, day: date | None = None) -> costs.CostEstimate:
    day = day or visit.chosen_date or next((d.day for d in visit.dates if d.active), None)
    year = day.year if day else visit.created_at.year
    going = max(1, len(travellers.active(visit)))
    passengers = going - 1 if visit.travel_mode == "car" and _pays_supplement(session, visit) else 0
    return costs.estimate(
        costs.km_of(session, visit),
        costs.rate_for(session, year),
        visit.ticket_cost,
        visit.accommodation_cost,
        costs.nights_of(visit.length),
        travellers=going,
        passengers=passengers,
        passenger_rate=costs.passenger_rate_for(session, year) if passengers else Decimal("0"),
    )


def _pays_supplement(session: Session, visit: Visit) -> bool:
    home = session.get(Library, visit.home_library_id)
    return costs.pays_passenger_supplement(session, home.region_id if home is not None else None)


def read_card(session: Session, visit: Visit) -> VisitCard:
    home = session.get(Library, visit.home_library_id)
    host = session.get(Library, visit.host_library_id)
    topic = session.get(Topic, visit.topic_id)
    assert home is not None and host is not None and topic is not None
    decisions = session.scalars(
        select(VisitDecision).where(VisitDecision.visit_id == visit.id).order_by(VisitDecision.id)
    ).all()
    next_hosts: tuple[HostChoice, ...] = ()
    if visit.status == VisitStatus.DECLINED:
        offering = offering_hosts(
            session, visitor_library_id=visit.home_library_id, topic_id=visit.topic_id, now=visit.updated_at
        )
        next_hosts = tuple(c for c in offering if c.library_id != host.id)[:3]
    active = [d for d in visit.dates if d.active]
    desk = _desk_state(session, visit)
    contacts = libraries.contacts_of(session, host.id)
    return VisitCard(
        id=visit.id,
        visitor_id=visit.visitor_id,
        supervisor_id=visit.supervisor_id,
        home_library_name=home.name,
        host_library_id=host.id,
        host_library_name=host.name,
        topic_id=topic.id,
        topic_names={"fi": topic.name_fi, "sv": topic.name_sv, "en": topic.name_en},
        learn=visit.learn,
        length=visit.length,
        travel_mode=visit.travel_mode,
        cost=estimate(session, visit),
        note_to_host=visit.note_to_host,
        status=visit.status,
        supervisor_state=visit.supervisor_state,
        host_state=visit.host_state,
        funding_state=visit.funding_state,
        round=visit.round,
        chosen_date=visit.chosen_date,
        visitor_dates=tuple(DateChoice(d.id, d.day) for d in active if d.source == "visitor"),
        host_dates=tuple(DateChoice(d.id, d.day) for d in active if d.source == "host"),
        decisions=tuple(
            DecisionInfo(d.party, d.decided_by, d.outcome, d.reason, d.at, d.round, d.on_behalf_of)
            for d in decisions
        ),
        host_contacts=tuple(contacts),
        sequence=visit.ics_sequence,
        next_hosts=next_hosts,
        budget=_budget_for(session, visit, home.region_id),
        tickets_bought_by=desk[0],
        invoice_status=desk[1],
        costs_recorded=desk[2],
        version=visit.version,
        region_id=home.region_id,
        coordinators=coordinators.of_region(session, home.region_id),
        travellers=travellers.info_of(visit),
        happened=visit.happened,
        deadlines=(
            deadlines.deadlines_of(session, visit.id, visit.round)
            if visit.status == VisitStatus.PROPOSED
            else ()
        ),
        away=_away(session, visit, contacts),
        stops=stop_info.infos(session, visit),
        straight_km=stop_info.straight_line_km(session, visit) if visit.stops else 0.0,
    )


def _away(session: Session, visit: Visit, contacts: list[str]) -> tuple[Away, ...]:
    """The periods away of the visit's supervisors and host contacts, while it waits for them."""
    if visit.status != VisitStatus.PROPOSED:
        return ()
    people = [visit.supervisor_id, *(t.supervisor_id for t in visit.travellers), *contacts]
    since = workdays.local_today(visit.updated_at)
    return tuple(substitutes.periods_of(session, people, since=since))


def _desk_state(session: Session, visit: Visit) -> tuple[str | None, str, bool]:
    """Who bought the tickets, the travel invoice's status, are actual costs recorded."""
    if visit.status not in (VisitStatus.CONFIRMED, VisitStatus.CANCELLED):
        return None, "", False
    from services.money.travel_invoices import status_of

    cost = session.get(VisitCost, visit.id)
    return (
        cost.tickets_bought_by if cost else None,
        status_of(visit, cost).value,
        bool(cost and cost.settled_at),
    )


def _budget_for(session: Session, visit: Visit, region_id: int) -> BudgetSummary | None:
    if visit.status != VisitStatus.PROPOSED or visit.funding_state != PartyState.PENDING:
        return None
    return budget.summarize(session, region_id, budget.visit_day(visit).year, excluding=(visit.id,))

"""The visit state machine.

    proposed --(supervisor, host, funding decide in parallel)--> confirmed
    host proposes other dates (countered) --> the visitor picks one (or cancels)
    anyone declines --> declined;  the visitor or a coordinator cancels --> cancelled
    move (visitor or coordinator): a new date asks the host and the supervisor again, and funding
    again only if the estimated cost rises.

Every transition runs in one unit of work that locks the visit row (`SELECT ... FOR UPDATE`)
and is guarded by the `version` column, so two presses at once yield exactly one decision.
Every decision goes into the audit log, and every transition ends with
`visit_reminders.sync`, which plans or cancels the visit's reminders for its new state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Library,
    LibraryContact,
    PartyState,
    StaffProfile,
    Topic,
    TopicStatus,
    Visit,
    VisitCost,
    VisitDate,
    VisitDecision,
    VisitMessage,
    VisitStatus,
)
from services.catalogue import libraries
from services.common import audit, money, workdays
from services.common.errors import Conflict, InvalidInput, NotAllowed, NotFound
from services.find import matching
from services.money import budget, costs
from services.money.budget import BudgetSummary
from services.outbox import visit_outbox
from services.people import coordinators
from services.people.coordinators import Scope, covers
from services.people.staff import negotiate
from services.visits import visit_reminders

LENGTHS = ("half_day", "day", "two_days")
TRAVEL_MODES = ("public", "car", "other")
PARTIES = ("supervisor", "host", "funding")
MAX_DATES = 3
MAX_KM = Decimal("5000")
MAX_EUR = Decimal("10000")
MAX_TEXT = 1500
NOT_YOURS = "visits.not_yours"
FUNDING_OTHER_REGION = "visits.funding.other_region"
FUNDING_CONFLICT = "visits.funding.conflict"


# --- Errors ------------------------------------------------------------------------------------
class AlreadyDecided(Conflict):
    """The press came too late: someone decided (or the visit changed) first."""

    key = "visits.already_decided"

    def __init__(self, visit_id: int, key: str | None = None, /, **params: object) -> None:
        super().__init__(key or type(self).key, **params)
        self.visit_id = visit_id


# --- What views need --------------------------------------------------------------------------
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

    @property
    def funding_deciders(self) -> tuple[str, ...] | None:
        """Who may decide the funding: the region's coordinators, except the visitor and the
        visitor's supervisor (a conflict of interest). Empty: nobody can; the messages say so."""
        if self.coordinators is None:
            return None
        return tuple(c for c in self.coordinators if c not in (self.visitor_id, self.supervisor_id))

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
        if party == "visitor":
            return self.host_state == PartyState.COUNTERED
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
    invite: str | None = None  # "send" | "cancel" | None
    changed: bool = True
    outbox: visit_outbox.Owed | None = None  # what the change owes, claimed by this request


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


@dataclass(frozen=True)
class VisitLine:
    """One row of a list (App Home, `omat`)."""

    id: int
    visitor_id: str
    topic_names: dict[str, str]
    host_library_name: str
    status: VisitStatus
    supervisor_state: PartyState
    host_state: PartyState
    funding_state: PartyState
    chosen_date: date | None
    first_date: date | None
    created_at: datetime
    waiting_as: str = ""  # supervisor | host | funding | visitor (for "waiting for my decision")

    def topic(self, lang: str) -> str:
        return self.topic_names.get(lang) or self.topic_names.get("fi", "")


@dataclass
class Page:
    lines: list[VisitLine] = field(default_factory=list)
    total: int = 0
    page: int = 0
    page_size: int = 10

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total


# --- Host ordering (switched to services.find.matching.rank_hosts at merge) --------------------------
def _host_order(
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
        for match in matching.rank_hosts(
            session, topic_id=topic_id, visitor_library_id=visitor_library_id, now=now
        ):
            if match.in_region and match.library_id != visitor_library_id:
                ranked.append(HostChoice(match.library_id, match.library_name, match.distance_km or 0.0))
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
        ordered = _host_order(
            session, visitor_library_id=visitor_library_id, topic_id=topic_id, limit=10_000, now=now
        )
    words = [w for w in query.lower().split() if w]
    if words:
        ordered = [c for c in ordered if all(w in c.name.lower() for w in words)]
    return ordered[:limit]


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


# --- Validation -------------------------------------------------------------------------------
def _check_dates(
    session: Session,
    days: Sequence[date | None],
    *,
    host_library_id: int | None,
    today: date,
    required: bool = True,
) -> tuple[list[date], dict[str, tuple[str, dict[str, object]]]]:
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    good: list[date] = []
    seen: set[date] = set()
    for i, day in enumerate(days[:MAX_DATES], start=1):
        name = f"date_{i}"
        if day is None:
            continue
        problem = workdays.why_not(day, today=today)
        if problem is None and day in seen:
            problem = ("visits.error.date_duplicate", {})
        if problem is None and host_library_id is not None:
            period = libraries.closed_period_on(session, host_library_id, day)
            if period is not None:
                problem = ("visits.error.date_closed", {"until": period.ends_on.isoformat()})
        seen.add(day)
        if problem is None:
            good.append(day)
        else:
            errors[name] = problem
    if required and not good and not errors:
        errors["date_1"] = ("visits.error.date_missing", {})
    return good, errors


def _parse_money(
    form: ProposalInput, errors: dict[str, tuple[str, dict[str, object]]]
) -> tuple[Decimal, Decimal, Decimal]:
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
    return values[0], values[1], values[2]


# --- Transitions ------------------------------------------------------------------------------
def propose(
    session_factory: sessionmaker[Session],
    form: ProposalInput,
    *,
    visitor_id: str,
    home_library_id: int | None,
    now: datetime,
) -> Change:
    """Validate every field (all errors at once) and save the proposal; nothing is saved on error."""
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
        if not learn:
            errors["learn"] = ("visits.error.learn", {})
        elif len(learn) > MAX_TEXT:
            errors["learn"] = ("visits.error.too_long", {"max": MAX_TEXT})
        if len(form.note or "") > MAX_TEXT:
            errors["note"] = ("visits.error.too_long", {"max": MAX_TEXT})
        days, date_errors = _check_dates(
            session, form.dates, host_library_id=host.id if host else None, today=today
        )
        errors.update(date_errors)
        if form.length not in LENGTHS:
            errors["length"] = ("visits.error.length", {})
        if form.travel_mode not in TRAVEL_MODES:
            errors["travel"] = ("visits.error.travel", {})
        km, tickets, accommodation = _parse_money(form, errors)
        if not form.supervisor_id:
            errors["supervisor"] = ("visits.error.supervisor", {})
        elif form.supervisor_id == visitor_id:
            errors["supervisor"] = ("visits.error.supervisor_self", {})
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
            details={"host": host.id, "topic": topic.id, "dates": [d.isoformat() for d in days]},
        )
        visit_reminders.sync(session, visit, now)
        owed = visit_outbox.owe(session, visit, event="proposed", actor=visitor_id, invite=None, now=now)
        card = _card(session, visit)
    return Change(card, "proposed", visitor_id, outbox=owed)


def check_may_decide(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    party: str,
    actor: str,
    is_coordinator: bool | Scope,
    round_: int | None = None,
) -> VisitCard:
    """Raise NotAllowed / AlreadyDecided now (before opening a form); return the visit."""
    with session_factory() as session:
        visit = _get(session, visit_id)
        _check_party(session, visit, party, actor, is_coordinator)
        _check_state(session, visit, party, round_)
        return _card(session, visit)


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
        _check_party(session, visit, party, actor, is_coordinator)
        _check_state(session, visit, party, round_)
        if approve and party == "host":
            chosen = next((d for d in visit.dates if d.id == date_id and d.active), None)
            if chosen is None:
                raise _already(session, visit, party)
            visit.chosen_date = chosen.day
        outcome = "approved" if approve else "declined"
        setattr(visit, f"{party}_state", PartyState.APPROVED if approve else PartyState.DECLINED)
        if approve and party == "funding":
            visit.funded_cost = _estimate(session, visit).total
        _record(session, visit, party, actor, outcome, reason, now)
        if not approve:
            return f"{party}_declined", _end(visit, VisitStatus.DECLINED)
        return _maybe_confirm(visit, f"{party}_approved")

    return _transition(session_factory, visit_id, actor, now, apply)


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
) -> Change:
    """The host proposes other dates (1-3); the visitor then picks one."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        _check_party(session, visit, "host", actor, is_coordinator)
        _check_state(session, visit, "host", round_)
        good, errors = _check_dates(
            session, days, host_library_id=visit.host_library_id, today=workdays.local_today(now)
        )
        if errors:
            raise InvalidInput(errors)
        for d in visit.dates:
            if d.source == "host":
                d.active = False
        visit.dates.extend(VisitDate(day=day, source="host", active=True) for day in good)
        visit.host_state = PartyState.COUNTERED
        _record(session, visit, "host", actor, "countered", reason, now, [d.isoformat() for d in good])
        return "host_countered", None

    return _transition(session_factory, visit_id, actor, now, apply)


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
        _check_visitor(session, visit, actor, is_coordinator)
        _check_state(session, visit, "visitor", round_)
        chosen = next((d for d in visit.dates if d.id == date_id and d.active and d.source == "host"), None)
        if chosen is None:
            raise _already(session, visit, "visitor")
        visit.chosen_date = chosen.day
        visit.host_state = PartyState.APPROVED
        _record(session, visit, "visitor", actor, "picked", "", now, [chosen.day.isoformat()])
        return _maybe_confirm(visit, "visitor_picked")

    return _transition(session_factory, visit_id, actor, now, apply)


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
        _check_visitor(session, visit, actor, is_coordinator)
        _check_open(session, visit, now)
        _record(session, visit, "visitor", actor, "cancelled", reason, now)
        return "cancelled", _end(visit, VisitStatus.CANCELLED)

    return _transition(session_factory, visit_id, actor, now, apply)


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
) -> Change:
    """A new date asks the host and the supervisor again; funding again only if the cost rises."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        _check_visitor(session, visit, actor, is_coordinator)
        _check_open(session, visit, now)
        if visit.chosen_date is None:
            raise AlreadyDecided(visit.id, "visits.error.nothing_to_move")
        good, errors = _check_dates(
            session, [day], host_library_id=visit.host_library_id, today=workdays.local_today(now)
        )
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
            accommodation=str(visit.accommodation_cost) if accommodation is None else accommodation,
        )
        new_km, new_tickets, new_accommodation = _parse_money(form, errors)
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
        if visit.funding_state != PartyState.APPROVED or (
            visit.funded_cost is None or _estimate(session, visit, good[0]).total > visit.funded_cost
        ):
            visit.funding_state = PartyState.PENDING
        _record(session, visit, "visitor", actor, "moved", "", now, [old.isoformat(), good[0].isoformat()])
        return "moved", None

    return _transition(session_factory, visit_id, actor, now, apply)


# --- Reading ----------------------------------------------------------------------------------
def card_of(session_factory: sessionmaker[Session], visit_id: int) -> VisitCard:
    with session_factory() as session:
        return _card(session, _get(session, visit_id))


def version_of(session_factory: sessionmaker[Session], visit_id: int) -> int | None:
    """The visit's current version (one cheap statement), or None if it is gone."""
    with session_factory() as session:
        return session.scalar(select(Visit.version).where(Visit.id == visit_id))


def my_visits(
    session_factory: sessionmaker[Session], user_id: str, *, page: int = 0, page_size: int = 10
) -> Page:
    """The visits the user proposed, newest first, one page."""
    page = max(0, page)
    with session_factory() as session:
        total = session.scalar(select(func.count(Visit.id)).where(Visit.visitor_id == user_id)) or 0
        if page * page_size >= total > 0:
            page = (total - 1) // page_size
        stmt = (
            _line_query()
            .where(Visit.visitor_id == user_id)
            .order_by(Visit.created_at.desc(), Visit.id.desc())
            .offset(page * page_size)
            .limit(page_size)
        )
        lines = _lines(session, stmt)
    return Page(lines, total, page, page_size)


def waiting_for(
    session_factory: sessionmaker[Session], user_id: str, *, is_coordinator: bool | Scope, limit: int = 10
) -> Page:
    """Visits that wait for this user's decision (as supervisor, host contact, coordinator or
    visitor). A coordinator's funding decisions are those of their region, less their own visits
    and their staff's (see `_check_party`)."""
    host_libraries = select(LibraryContact.library_id).where(LibraryContact.slack_user_id == user_id)
    conditions = [
        and_(Visit.supervisor_id == user_id, Visit.supervisor_state == PartyState.PENDING),
        and_(Visit.host_library_id.in_(host_libraries), Visit.host_state == PartyState.PENDING),
        and_(Visit.visitor_id == user_id, Visit.host_state == PartyState.COUNTERED),
    ]
    if is_coordinator:
        funding = [
            Visit.funding_state == PartyState.PENDING,
            Visit.visitor_id != user_id,
            Visit.supervisor_id != user_id,
        ]
        if isinstance(is_coordinator, Scope) and is_coordinator.regions is not None:
            in_region = select(Library.id).where(Library.region_id.in_(sorted(is_coordinator.regions)))
            funding.append(Visit.home_library_id.in_(in_region))
        conditions.append(and_(*funding))
    where = and_(Visit.status == VisitStatus.PROPOSED, or_(*conditions))
    with session_factory() as session:
        total = session.scalar(select(func.count(Visit.id)).where(where)) or 0
        contact_of = set(session.scalars(host_libraries))
        stmt = _line_query().where(where).order_by(Visit.created_at.asc(), Visit.id.asc()).limit(limit)
        lines = []
        for line, visit in _lines_with(session, stmt):
            if visit.supervisor_id == user_id and visit.supervisor_state == PartyState.PENDING:
                role = "supervisor"
            elif visit.host_library_id in contact_of and visit.host_state == PartyState.PENDING:
                role = "host"
            elif visit.visitor_id == user_id and visit.host_state == PartyState.COUNTERED:
                role = "visitor"
            else:
                role = "funding"
            lines.append(_replace_role(line, role))
    return Page(lines, total, 0, limit)


def waiting_for_funding(
    session_factory: sessionmaker[Session], region_id: int, *, limit: int = 50
) -> list[int]:
    """The proposed visits of a region whose funding waits, oldest first (at most `limit`)."""
    in_region = select(Library.id).where(Library.region_id == region_id)
    with session_factory() as session:
        return list(
            session.scalars(
                select(Visit.id)
                .where(
                    Visit.status == VisitStatus.PROPOSED,
                    Visit.funding_state == PartyState.PENDING,
                    Visit.home_library_id.in_(in_region),
                )
                .order_by(Visit.created_at, Visit.id)
                .limit(limit)
            )
        )


def with_funding_message(
    session_factory: sessionmaker[Session], user_id: str, *, limit: int = 50
) -> list[int]:
    """The open (proposed or confirmed) visits on which `user_id` has a funding message, oldest
    first: when they stop coordinating the region, those messages must lose their buttons."""
    with session_factory() as session:
        return list(
            session.scalars(
                select(Visit.id)
                .join(VisitMessage, VisitMessage.visit_id == Visit.id)
                .where(
                    VisitMessage.recipient == user_id,
                    VisitMessage.role == "funding",
                    Visit.status.in_([VisitStatus.PROPOSED, VisitStatus.CONFIRMED]),
                )
                .order_by(Visit.created_at, Visit.id)
                .limit(limit)
            )
        )


UNCONFIRMED = ""  # the channel of a message whose post has begun and has not been answered


def message_refs(session: Session, visit_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    """(recipient, role) -> (channel, ts) of the visit's stored messages. A post that began and
    was never answered has the channel UNCONFIRMED and, as ts, the time it began (a Slack ts)."""
    rows = session.execute(
        select(VisitMessage.recipient, VisitMessage.role, VisitMessage.channel, VisitMessage.ts).where(
            VisitMessage.visit_id == visit_id
        )
    ).all()
    return {(r, role): (channel, ts) for r, role, channel, ts in rows}


def begin_posts(
    session_factory: sessionmaker[Session], visit_id: int, who: Iterable[tuple[str, str]], *, since: datetime
) -> None:
    """Note, before posting them, that the (recipient, role) messages are being posted: if the
    answer never comes (a time-out, a lost connection, a crash), the message may be in Slack all
    the same, and the next render looks for it there before posting again. One that is already
    stored (a concurrent publish) is left as it is."""
    ts = f"{since.timestamp():.6f}"
    pending = [(r, role) for r, role in who]
    try:
        with session_factory.begin() as session:
            session.add_all(
                VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=UNCONFIRMED, ts=ts)
                for r, role in pending
            )
        return
    except IntegrityError:
        pass
    for r, role in pending:
        try:
            with session_factory.begin() as session:
                session.add(
                    VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=UNCONFIRMED, ts=ts)
                )
        except IntegrityError:
            continue


def forget_posts(
    session_factory: sessionmaker[Session], visit_id: int, who: Iterable[tuple[str, str]]
) -> None:
    """The (recipient, role) posts were not made, or Slack refused them: nothing to look for."""
    with session_factory.begin() as session:
        for r, role in who:
            session.execute(
                delete(VisitMessage).where(
                    VisitMessage.visit_id == visit_id,
                    VisitMessage.recipient == r,
                    VisitMessage.role == role,
                    VisitMessage.channel == UNCONFIRMED,
                )
            )


def save_message_refs(
    session_factory: sessionmaker[Session], visit_id: int, refs: Iterable[tuple[str, str, str, str]]
) -> None:
    """Store (recipient, role, channel, ts) of posted (or found) messages, each in its own
    transaction, over the note that its post had begun; a message already stored (a concurrent
    publish) is kept."""
    for r, role, channel, ts in refs:
        where = (VisitMessage.visit_id == visit_id, VisitMessage.recipient == r, VisitMessage.role == role)
        try:
            with session_factory.begin() as session:
                result = session.execute(
                    update(VisitMessage)
                    .where(*where, VisitMessage.channel == UNCONFIRMED)
                    .values(channel=channel, ts=ts)
                )
                if (
                    not getattr(result, "rowcount", 0)
                    and session.scalar(select(VisitMessage.id).where(*where)) is None
                ):
                    session.add(
                        VisitMessage(visit_id=visit_id, recipient=r, role=role, channel=channel, ts=ts)
                    )
        except IntegrityError:
            continue


def languages_of(session: Session, user_ids: Iterable[str], default: str) -> tuple[dict[str, str], set[str]]:
    """Each user's language (chosen, else from their Slack locale, else `default`), and the set
    of users the bot already knows."""
    ids = sorted(set(user_ids))
    rows = session.execute(
        select(StaffProfile.slack_user_id, StaffProfile.language, StaffProfile.slack_locale).where(
            StaffProfile.slack_user_id.in_(ids)
        )
    ).all()
    found = {user: language or negotiate(locale, default) for user, language, locale in rows}
    return {user: found.get(user, default) for user in ids}, set(found)


# --- Internals --------------------------------------------------------------------------------
def _transition(
    session_factory: sessionmaker[Session],
    visit_id: int,
    actor: str,
    now: datetime,
    apply: Callable[[Session, Visit], tuple[str, str | None]],
) -> Change:
    try:
        with session_factory.begin() as session:
            visit = _get(session, visit_id, lock=True)
            event, invite = apply(session, visit)
            visit.updated_at = now
            session.flush()
            visit_reminders.sync(session, visit, now)  # plan or cancel what the new state needs
            # In the same unit of work: what the change owes its people (see visit_outbox).
            owed = visit_outbox.owe(session, visit, event=event, actor=actor, invite=invite, now=now)
            card = _card(session, visit)
    except StaleDataError:
        with session_factory() as session:
            visit = _get(session, visit_id)
            raise _already(session, visit, None) from None
    return Change(card, event, actor, invite, outbox=owed)


def _get(session: Session, visit_id: int, *, lock: bool = False) -> Visit:
    stmt = select(Visit).where(Visit.id == visit_id).options(selectinload(Visit.dates))
    if lock:
        stmt = stmt.with_for_update(of=Visit).execution_options(populate_existing=True)
    visit = session.scalar(stmt)
    if visit is None:
        raise NotFound()
    return visit


def _check_party(
    session: Session, visit: Visit, party: str, actor: str, is_coordinator: bool | Scope
) -> None:
    """Who may act for `party`. A coordinator acts only on the visits of their own region, and
    never decides the funding of a visit they make or whose visitor they supervise."""
    if party == "supervisor":
        allowed = actor == visit.supervisor_id
    elif party == "host":
        allowed = libraries.is_contact(session, visit.host_library_id, actor) or covers(
            is_coordinator, libraries.region_of(session, visit)
        )
    elif party == "funding":
        if is_coordinator and not covers(is_coordinator, libraries.region_of(session, visit)):
            raise NotAllowed(FUNDING_OTHER_REGION)
        if is_coordinator and actor in (visit.visitor_id, visit.supervisor_id):
            raise NotAllowed(FUNDING_CONFLICT)
        allowed = bool(is_coordinator)
    else:
        allowed = actor == visit.visitor_id or covers(is_coordinator, libraries.region_of(session, visit))
    if not allowed:
        raise NotAllowed(NOT_YOURS)


def _check_visitor(session: Session, visit: Visit, actor: str, is_coordinator: bool | Scope) -> None:
    if not (actor == visit.visitor_id or covers(is_coordinator, libraries.region_of(session, visit))):
        raise NotAllowed(NOT_YOURS)


def _check_state(session: Session, visit: Visit, party: str, round_: int | None) -> None:
    if visit.status != VisitStatus.PROPOSED or (round_ is not None and round_ != visit.round):
        raise _already(session, visit, party)
    if party == "visitor":
        if visit.host_state != PartyState.COUNTERED:
            raise _already(session, visit, party)
    elif getattr(visit, f"{party}_state") != PartyState.PENDING:
        raise _already(session, visit, party)


def _check_open(session: Session, visit: Visit, now: datetime) -> None:
    if visit.status not in (VisitStatus.PROPOSED, VisitStatus.CONFIRMED):
        raise _already(session, visit, None)
    if visit.chosen_date is not None and visit.chosen_date <= workdays.local_today(now):
        raise AlreadyDecided(visit.id, "visits.error.already_happened")


def _already(session: Session, visit: Visit, party: str | None) -> AlreadyDecided:
    """Who decided it first: the party's latest decision, else the visit's latest."""
    stmt = select(VisitDecision).where(VisitDecision.visit_id == visit.id)
    if party in PARTIES:
        stmt = stmt.where(VisitDecision.party == party)
    last = session.scalar(stmt.order_by(VisitDecision.id.desc()).limit(1))
    if last is None:
        return AlreadyDecided(visit.id, "visits.changed")
    return AlreadyDecided(
        visit.id, "visits.already_decided", who=f"<@{last.decided_by}>", outcome=last.outcome
    )


def _record(
    session: Session,
    visit: Visit,
    party: str,
    actor: str,
    outcome: str,
    reason: str,
    now: datetime,
    dates: list[str] | None = None,
) -> None:
    reason = (reason or "").strip()[:MAX_TEXT]
    session.add(
        VisitDecision(
            visit_id=visit.id,
            round=visit.round,
            party=party,
            decided_by=actor,
            outcome=outcome,
            reason=reason,
            at=now,
        )
    )
    details: dict[str, object] = {"party": party, "outcome": outcome, "round": visit.round}
    if reason:
        details["reason"] = reason
    if dates:
        details["dates"] = dates
    audit.record(
        session,
        now=now,
        actor=actor,
        action=f"visit.{outcome}",
        entity="visit",
        entity_id=visit.id,
        details=details,
    )


def _maybe_confirm(visit: Visit, event: str) -> tuple[str, str | None]:
    if (
        visit.supervisor_state == PartyState.APPROVED
        and visit.host_state == PartyState.APPROVED
        and visit.funding_state == PartyState.APPROVED
        and visit.chosen_date is not None
    ):
        visit.status = VisitStatus.CONFIRMED
        if visit.invite_sent:
            visit.ics_sequence += 1
        visit.invite_sent = True
        return "confirmed", "send"
    return event, None


def _end(visit: Visit, status: VisitStatus) -> str | None:
    visit.status = status
    if visit.invite_sent:
        visit.ics_sequence += 1
        return "cancel"
    return None


def _estimate(session: Session, visit: Visit, day: date | None = None) -> costs.CostEstimate:
    day = day or visit.chosen_date or next((d.day for d in visit.dates if d.active), None)
    year = day.year if day else visit.created_at.year
    return costs.estimate(
        costs.km_of(session, visit),
        costs.rate_for(session, year),
        visit.ticket_cost,
        visit.accommodation_cost,
    )


def _card(session: Session, visit: Visit) -> VisitCard:
    home = session.get(Library, visit.home_library_id)
    host = session.get(Library, visit.host_library_id)
    topic = session.get(Topic, visit.topic_id)
    assert home is not None and host is not None and topic is not None
    decisions = session.scalars(
        select(VisitDecision).where(VisitDecision.visit_id == visit.id).order_by(VisitDecision.id)
    ).all()
    next_hosts: tuple[HostChoice, ...] = ()
    if visit.status == VisitStatus.DECLINED:
        order = _host_order(
            session,
            visitor_library_id=visit.home_library_id,
            topic_id=visit.topic_id,
            limit=4,
            now=visit.updated_at,
        )
        next_hosts = tuple(c for c in order if c.library_id != host.id)[:3]
    active = [d for d in visit.dates if d.active]
    desk = _desk_state(session, visit)
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
        cost=_estimate(session, visit),
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
            DecisionInfo(d.party, d.decided_by, d.outcome, d.reason, d.at, d.round) for d in decisions
        ),
        host_contacts=tuple(libraries.contacts_of(session, host.id)),
        sequence=visit.ics_sequence,
        next_hosts=next_hosts,
        budget=_budget_for(session, visit, home.region_id),
        tickets_bought_by=desk[0],
        invoice_status=desk[1],
        costs_recorded=desk[2],
        version=visit.version,
        region_id=home.region_id,
        coordinators=coordinators.of_region(session, home.region_id),
    )


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


def _line_query():
    host = aliased(Library)
    first_date = (
        select(func.min(VisitDate.day))
        .where(VisitDate.visit_id == Visit.id, VisitDate.active.is_(True))
        .correlate(Visit)
        .scalar_subquery()
    )
    return (
        select(Visit, Topic.name_fi, Topic.name_sv, Topic.name_en, host.name, first_date)
        .join(Topic, Topic.id == Visit.topic_id)
        .join(host, host.id == Visit.host_library_id)
    )


def _lines_with(session: Session, stmt) -> list[tuple[VisitLine, Visit]]:  # noqa: ANN001
    result = []
    for visit, fi, sv, en, host_name, first in session.execute(stmt).all():
        line = VisitLine(
            id=visit.id,
            visitor_id=visit.visitor_id,
            topic_names={"fi": fi, "sv": sv, "en": en},
            host_library_name=host_name,
            status=visit.status,
            supervisor_state=visit.supervisor_state,
            host_state=visit.host_state,
            funding_state=visit.funding_state,
            chosen_date=visit.chosen_date,
            first_date=first,
            created_at=visit.created_at,
        )
        result.append((line, visit))
    return result


def _lines(session: Session, stmt) -> list[VisitLine]:  # noqa: ANN001
    return [line for line, _visit in _lines_with(session, stmt)]


def _replace_role(line: VisitLine, role: str) -> VisitLine:
    return replace(line, waiting_as=role)

"""Which reminders a visit needs, planned from its state after every transition.

`sync(session, visit, now)` is called once by each transition of `services.visits.state_machine` (inside its
unit of work); it looks at the visit as it now is and plans what that state needs. Planning is
idempotent (stable dedupe keys), so calling it after every change is safe:

* **decision nudges** (`decision_nudge`): for every party whose move it is (supervisor, host
  contacts, coordinators for funding, the visitor when the host proposed other dates) a nudge
  after 2 working days, another after 4; after 6 the coordinators are told it is stuck
  (`decision_stuck`). Keys carry the visit round, so a moved visit asks again with fresh nudges
  and the old round's ones stop by themselves;
* **the day before** (`day_before`): the previous working day at 9:00, to the visitor and the
  host contacts;
* **the write-up** (`writeup_nag`): the first working day after the visit, again one and two
  weeks later, then the coordinators are told (`writeup_overdue`);
* **the travel invoice** (`travel_invoice`, own car only): two working days after the visit and
  then weekly, each reminder planning the next when it goes out.

Keys of the after-confirmation kinds carry the round and the visit date, so moving a visit
cancels the old ones and its confirmation plans them afresh (even when moved back to a date it
had before). Cancelling or declining a visit cancels all of its reminders.
Each kind's `still_due` predicate (see `kinds()`) stops a reminder the moment its thing is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Library,
    PartyState,
    Reminder,
    ReminderStatus,
    Visit,
    VisitStatus,
    VisitStop,
    VisitTraveller,
)
from services.catalogue import libraries
from services.common.errors import NotAllowed, NotFound
from services.common.office_hours import (
    add_working_days,
    next_working_day,
    previous_working_day,
)
from services.ideas import writeups
from services.money import travel_invoices
from services.outbox import reminders, visit_outbox
from services.outbox.reminders import DueReminder, Kinds
from services.people import coordinators
from services.visits import deadlines, substitution, travellers

DECISION_NUDGE = "decision_nudge"
DECISION_STUCK = "decision_stuck"
DAY_BEFORE = "day_before"
WRITEUP_NAG = "writeup_nag"
WRITEUP_OVERDUE = "writeup_overdue"
TRAVEL_INVOICE = "travel_invoice"
TIP_REQUEST = "tip_request"  # a declined visitor asks the coordinators who else could teach the topic
AFTER_CONFIRMATION = (DAY_BEFORE, WRITEUP_NAG, WRITEUP_OVERDUE, TRAVEL_INVOICE)
DECISION_DEADLINE = deadlines.DECISION_DEADLINE  # the visitor is asked what to do (`lapses`)
DECISION_KINDS = (DECISION_NUDGE, DECISION_STUCK, DECISION_DEADLINE)

NUDGE_AFTER = (2, 4)  # working days after the party was asked
STUCK_AFTER = 6
WRITEUP_WEEKS = (0, 1, 2)  # after the first working day after the visit
WRITEUP_OVERDUE_WEEKS = 3
INVOICE_AFTER = 2  # working days after the visit
SEND_AT = time(9, 0)
NOT_YOURS = "reminders.not_yours"
HELSINKI = ZoneInfo("Europe/Helsinki")


@dataclass(frozen=True)
class Policy:
    """Who the coordinators are and the office time zone (set once by the app at start)."""

    coordinators: tuple[str, ...] = ()
    tz: ZoneInfo = HELSINKI


_policy = Policy()


def configure(*, coordinators: tuple[str, ...] | list[str], tz: ZoneInfo) -> None:
    global _policy
    _policy = Policy(tuple(coordinators), tz)


# --- planning ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Want:
    key: str
    kind: str
    recipient: str
    due_at: datetime
    params: dict[str, Any]


def sync(session: Session, visit: Visit, now: datetime) -> None:
    """Plan (or cancel) what the visit needs in its current state.

    A constant number of statements whatever the number of contacts or the history: one read of
    the visit's reminders, at most one batch of updates and one of inserts, and the host
    contacts only when their nudges are planned for the first time in a round."""
    p = _policy
    if visit.status in (VisitStatus.CANCELLED, VisitStatus.DECLINED):
        reminders.cancel_for_visit(session, visit.id, keep=(visit_outbox.SYNC,))  # still owed
        return
    existing = list(session.scalars(select(Reminder).where(Reminder.visit_id == visit.id)))
    keys = {r.dedupe_key for r in existing}
    waiting = waiting_parties(visit)
    on = visit.chosen_date.isoformat() if visit.chosen_date else None
    confirmed = visit.status == VisitStatus.CONFIRMED and on is not None
    owing = set(travellers.waiting_supervisors(visit))
    for reminder in existing:
        if reminder.status != ReminderStatus.PENDING:
            continue
        params = reminder.params or {}
        if reminder.kind in DECISION_KINDS:
            stale = params.get("round") != visit.round or params.get("party") not in waiting
            # a supervisor who has decided for their people is nudged no more, though others wait
            stale = stale or (
                reminder.kind == DECISION_NUDGE
                and params.get("party") == "supervisor"
                and reminder.recipient not in owing
                and params.get("for") not in owing  # a substitute's nudge: for whom
            )
        elif reminder.kind in AFTER_CONFIRMATION:
            stale = not confirmed or params.get("date") != on or params.get("round") != visit.round
        else:
            stale = False
        if stale:  # answered, an earlier round, or planned for another date
            reminder.status = ReminderStatus.CANCELLED
    wants: list[_Want] = []
    for party in waiting:
        prefix = f"v{visit.id}:r{visit.round}:{party}:"
        if not any(key.startswith(prefix) for key in keys):
            wants += _decision(session, visit, party, now, p)
    if confirmed and not any(key.startswith(f"v{visit.id}:r{visit.round}:{on}:") for key in keys):
        wants += _after_confirmation(session, visit, p)
    for want in wants:
        if want.key in keys:
            continue
        keys.add(want.key)
        reminders.add(
            session,
            key=want.key,
            kind=want.kind,
            recipient=want.recipient,
            due_at=want.due_at,
            now=now,
            tz=p.tz,
            visit_id=visit.id,
            params=want.params,
        )


def waiting_parties(visit: Visit | VisitState) -> list[str]:
    if visit.status != VisitStatus.PROPOSED:
        return []
    parties = [
        party
        for party in ("supervisor", "host", "funding")
        if getattr(visit, f"{party}_state") == PartyState.PENDING
    ]
    if visit.host_state in (PartyState.COUNTERED, PartyState.LAPSED):
        parties.append("visitor")
    if visit.chosen_date is not None:  # a study trip's further stops, asked once the day is agreed
        if isinstance(visit, Visit):
            waiting = [
                s.position for s in visit.stops if s.state == PartyState.PENDING and s.removed_at is None
            ]
        else:
            waiting = list(visit.stops_waiting)
        parties += [f"{STOP_PARTY}{position}" for position in sorted(waiting)]
    return parties


def coordinators_of(session: Session, visit: Visit, p: Policy) -> tuple[str, ...]:
    """The coordinators of the visit's region (as the unit of work knows them, see
    services.people.coordinators.of_region), else the configured ones."""
    home = session.get(Library, visit.home_library_id)
    return coordinators.of_region_or(session, home.region_id if home is not None else None, p.coordinators)


def region_coordinators(session: Session, visit: Visit) -> tuple[str, ...]:
    return coordinators_of(session, visit, _policy)


def office_tz() -> ZoneInfo:
    return _policy.tz


def deciders(session: Session, visit: Visit, party: str, coordinators: tuple[str, ...]) -> list[str]:
    """Whose move it is for `party`. Funding: the given coordinators (the visit's region's) less
    the visitor and the visitor's supervisor, who may not decide it."""
    if party == "supervisor":  # each supervisor who still owes a consent for someone of theirs
        return travellers.waiting_supervisors(visit)
    if party == "host":
        return list(libraries.contacts_of(session, visit.host_library_id))
    if party == "visitor":
        return [visit.visitor_id]
    if party.startswith(STOP_PARTY):  # a further stop's library's contacts
        stop = next((s for s in visit.stops if f"{STOP_PARTY}{s.position}" == party), None)
        return list(libraries.contacts_of(session, stop.library_id)) if stop is not None else []
    involved = travellers.everyone(visit) | {visit.visitor_id, visit.supervisor_id}
    return [c for c in coordinators if c not in involved]


def at_office(day: date, tz: ZoneInfo, clock: time = SEND_AT) -> datetime:
    """The moment on `day` when office messages go out (SEND_AT, or `clock`)."""
    return datetime.combine(day, clock, tzinfo=tz)


def _decision(session: Session, visit: Visit, party: str, now: datetime, p: Policy) -> list[_Want]:
    """Nudges after 2 and 4 working days from now (when the party is first asked in this round),
    then the coordinators after 6. A request of the supervisors, the host or funding has a
    deadline (`deadlines`): on the working day after it the visitor is asked what to do, the
    coordinators hear it is stuck no later than that, and no nudge comes after it."""
    local = now.astimezone(p.tz)
    base = {"party": party, "round": visit.round}
    prefix = f"v{visit.id}:r{visit.round}:{party}"
    wants = []
    region = coordinators_of(session, visit, p)
    lapse_at: datetime | None = None
    if party in deadlines.PARTIES:
        by = deadlines.deadline_for(
            local.date(), deadlines.first_day(visit), deadlines.answer_days(session, visit)
        )
        lapse_at = deadlines.lapse_time(by, p.tz)
        params = {**base, "deadline": by.isoformat(), "n": 0}
        wants.append(_Want(f"{prefix}:deadline", DECISION_DEADLINE, visit.visitor_id, lapse_at, params))
    for step, days in enumerate(NUDGE_AFTER, start=1):
        due = at_office(add_working_days(local.date(), days), p.tz, local.time())
        if lapse_at is not None and due >= lapse_at:
            break
        wants += [
            _Want(f"{prefix}:nudge{step}:{user}", DECISION_NUDGE, user, due, {**base, "step": step})
            for user in deciders(session, visit, party, region)
        ]
    due = at_office(add_working_days(local.date(), STUCK_AFTER), p.tz, local.time())
    if lapse_at is not None:
        due = min(due, lapse_at)
    wants += [
        _Want(f"{prefix}:stuck:{coordinator}", DECISION_STUCK, coordinator, due, dict(base))
        for coordinator in region
    ]
    return wants


def visit_end(visit: Visit) -> date:
    assert visit.chosen_date is not None
    return visit.chosen_date + timedelta(days=1 if visit.length == "two_days" else 0)


def _after_confirmation(session: Session, visit: Visit, p: Policy) -> list[_Want]:
    assert visit.chosen_date is not None
    on = visit.chosen_date.isoformat()
    prefix = f"v{visit.id}:r{visit.round}:{on}"  # moved back to an earlier date: planned afresh
    base = {"date": on, "round": visit.round}
    wants = []
    the_day_before = at_office(previous_working_day(visit.chosen_date), p.tz)
    going = [t.user_id for t in travellers.active(visit)] or [visit.visitor_id]
    for user in dict.fromkeys([*going, *libraries.contacts_of(session, visit.host_library_id)]):
        role = "visitor" if user in going else "host"
        wants.append(
            _Want(f"{prefix}:day_before:{user}", DAY_BEFORE, user, the_day_before, {**base, "role": role})
        )
    first = next_working_day(visit_end(visit))
    for step, weeks in enumerate(WRITEUP_WEEKS, start=1):  # to every traveller: any may write it
        due = at_office(first + timedelta(weeks=weeks), p.tz)
        for user in going:
            key = f"{prefix}:writeup{step}" if user == visit.visitor_id else f"{prefix}:writeup{step}:{user}"
            wants.append(_Want(key, WRITEUP_NAG, user, due, {**base, "step": step}))
    overdue = at_office(first + timedelta(weeks=WRITEUP_OVERDUE_WEEKS), p.tz)
    wants += [
        _Want(f"{prefix}:writeup_overdue:{c}", WRITEUP_OVERDUE, c, overdue, dict(base))
        for c in coordinators_of(session, visit, p)
    ]
    if visit.travel_mode == "car":
        due = at_office(add_working_days(visit_end(visit), INVOICE_AFTER), p.tz)
        wants.append(_Want(f"{prefix}:invoice1", TRAVEL_INVOICE, visit.visitor_id, due, {**base, "n": 1}))
    return wants


# --- still due? -------------------------------------------------------------------------------
@dataclass(frozen=True)
class VisitState:
    """The few columns the predicates read (one light query per due reminder, no ORM load)."""

    id: int
    status: VisitStatus
    round: int
    chosen_date: date | None
    supervisor_state: PartyState
    host_state: PartyState
    funding_state: PartyState
    happened: bool | None = None
    stops_waiting: tuple[int, ...] = ()  # a study trip's further stops whose hosts are asked


STOP_PARTY = "stop"  # + the stop's position (2-4): a study trip's further stop, a party of its own


def _visit(session: Session, reminder: DueReminder) -> VisitState | None:
    if reminder.visit_id is None:
        return None
    row = session.execute(
        select(
            Visit.id,
            Visit.status,
            Visit.round,
            Visit.chosen_date,
            Visit.supervisor_state,
            Visit.host_state,
            Visit.funding_state,
            Visit.happened,
        ).where(Visit.id == reminder.visit_id)
    ).first()
    if row is None:
        return None
    waiting = session.scalars(
        select(VisitStop.position).where(
            VisitStop.visit_id == reminder.visit_id,
            VisitStop.state == PartyState.PENDING,
            VisitStop.removed_at.is_(None),
        )
    )
    return VisitState(*row, stops_waiting=tuple(waiting))


def decision_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    """The same round still waits for the same party."""
    visit = _visit(session, reminder)
    if visit is None or visit.round != reminder.params.get("round"):
        return False
    if str(reminder.params.get("party")) not in waiting_parties(visit):
        return False
    # someone away: their nudge goes to their substitute instead (see substitution)
    return substitution.redirect_nudge(session, reminder, now, _policy.tz)


def _confirmed_for(session: Session, reminder: DueReminder) -> VisitState | None:
    visit = _visit(session, reminder)
    if visit is None or visit.status != VisitStatus.CONFIRMED or visit.chosen_date is None:
        return None
    if visit.chosen_date.isoformat() != reminder.params.get("date"):
        return None
    if visit.round != reminder.params.get("round", visit.round):
        return None
    return visit


def _withdrew(session: Session, visit_id: int, user: str) -> bool:
    """Has this colleague left the trip? (Reminders to a traveller stop when they withdraw.)"""
    return (
        session.scalar(
            select(VisitTraveller.id).where(
                VisitTraveller.visit_id == visit_id,
                VisitTraveller.user_id == user,
                VisitTraveller.withdrawn_at.is_not(None),
            )
        )
        is not None
    )


def day_before_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    visit = _confirmed_for(session, reminder)
    if visit is None or now.astimezone(_policy.tz).date() >= (visit.chosen_date or date.min):
        return False
    return reminder.params.get("role") != "visitor" or not _withdrew(session, visit.id, reminder.recipient)


def writeup_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    """Until the write-up is in, whoever of the travellers writes it (it stops for all); never
    for a visit that did not happen. The first, on the first working day after the visit, asks
    whether it happened, and so does every later one until someone answers."""
    visit = _confirmed_for(session, reminder)
    if visit is None or visit.happened is False or writeups.has_writeup(session, visit.id):
        return False
    return reminder.kind != WRITEUP_NAG or not _withdrew(session, visit.id, reminder.recipient)


def invoice_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    """Still owed? Then this one goes out, and the next week's is planned now."""
    visit = _confirmed_for(session, reminder)
    if visit is None or not travel_invoices.invoice_outstanding(session, visit.id):
        return False
    n = int(reminder.params.get("n", 1))
    tz = _policy.tz
    on = str(reminder.params.get("date"))
    reminders.plan(
        session,
        kind=TRAVEL_INVOICE,
        recipient=reminder.recipient,
        due_at=at_office(reminder.due_at.astimezone(tz).date() + timedelta(weeks=1), tz),
        now=now,
        tz=tz,
        visit_id=visit.id,
        key=f"v{visit.id}:r{visit.round}:{on}:invoice{n + 1}",
        params={"date": on, "round": visit.round, "n": n + 1},
    )
    return True


def kinds() -> Kinds:
    """The registry production passes to `reminders.sweep`."""
    registry = Kinds()
    registry.register(DECISION_NUDGE, decision_still_due)
    registry.register(DECISION_STUCK, decision_still_due)
    registry.register(DECISION_DEADLINE, decision_still_due)
    registry.register(DAY_BEFORE, day_before_still_due)
    registry.register(WRITEUP_NAG, writeup_still_due)
    registry.register(WRITEUP_OVERDUE, writeup_still_due)
    registry.register(TRAVEL_INVOICE, invoice_still_due)
    registry.register(TIP_REQUEST, tip_still_due)
    visit_outbox.register(registry)
    substitution.register(registry)
    return registry


# --- asking the coordinators for a tip ---------------------------------------------------------
def ask_for_tip(session_factory: Any, visit_id: int, *, actor: str, now: datetime) -> int:
    """After a decline, when no other library of the region offers the topic: the visitor asks
    the region's coordinators (informaatikot) who could teach it, as the programme's page
    advises. One direct message to each coordinator, once per visit, sent by the reminder sweep
    in office hours; returns how many coordinators are asked (0: the region has none)."""
    p = _policy
    with session_factory.begin() as session:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise NotFound()
        if actor != visit.visitor_id:
            raise NotAllowed("visits.tip.not_yours")
        if visit.status != VisitStatus.DECLINED:
            raise NotAllowed("visits.changed")
        people = [c for c in coordinators_of(session, visit, p) if c != actor]
        asked = set(
            session.scalars(
                select(Reminder.recipient).where(Reminder.visit_id == visit.id, Reminder.kind == TIP_REQUEST)
            )
        )
        for coordinator in people:
            if coordinator in asked:
                continue  # a second press asks nobody twice
            reminders.add(
                session,
                key=f"v{visit.id}:tip:{coordinator}",
                kind=TIP_REQUEST,
                recipient=coordinator,
                due_at=now,
                now=now,
                tz=p.tz,
                visit_id=visit.id,
            )
        return len(people)


def tip_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    visit = session.get(Visit, reminder.visit_id) if reminder.visit_id else None
    return visit is not None and visit.status == VisitStatus.DECLINED

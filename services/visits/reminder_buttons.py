"""What a coordinator or a visitor does on a reminder: take a stuck decision over or remind its
party again (`decision_stuck`), and snooze a write-up nag for a week or to a day. Split from
`visit_reminders`, which plans the reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Library, Reminder, ReminderStatus, Visit
from services.common.errors import NotAllowed, NotFound
from services.common.office_hours import next_office_time
from services.outbox import reminders
from services.people import coordinators
from services.visits import travellers
from services.visits.conflicts import conflict_of
from services.visits.visit_reminders import (
    DECISION_NUDGE,
    DECISION_STUCK,
    NOT_YOURS,
    STOP_PARTY,
    WRITEUP_NAG,
    WRITEUP_OVERDUE,
    at_office,
    deciders,
    office_tz,
    region_coordinators,
    waiting_parties,
)


# --- buttons ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stuck:
    """A stuck decision a coordinator pressed a button on."""

    visit_id: int
    party: str
    round: int
    deciders: tuple[str, ...]
    supervisor_id: str
    visitor_id: str = ""
    others: frozenset[str] = frozenset()  # the colleagues on the trip and their supervisors


def _own(session: Session, reminder_id: int, kinds_: tuple[str, ...]) -> Reminder:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.kind not in kinds_:
        raise NotFound()
    return reminder


def stuck_decision(
    session: Session, reminder_id: int, *, actor: str, is_coordinator: bool | coordinators.Scope
) -> tuple[Stuck, bool]:
    """The decision a `decision_stuck` reminder is about, and whether it still waits (for the
    coordinators of the visit's region: another region's are told whose it is)."""
    if not is_coordinator:
        raise NotAllowed(NOT_YOURS)
    reminder = _own(session, reminder_id, (DECISION_STUCK,))
    visit = session.get(Visit, reminder.visit_id) if reminder.visit_id else None
    if visit is None:
        raise NotFound()
    home = session.get(Library, visit.home_library_id)
    coordinators.require_region(is_coordinator, home.region_id if home is not None else None)
    party = str(reminder.params.get("party"))
    waiting = visit.round == reminder.params.get("round") and party in waiting_parties(visit)
    people = tuple(deciders(session, visit, party, region_coordinators(session, visit)))
    others = frozenset(travellers.everyone(visit))
    return Stuck(visit.id, party, visit.round, people, visit.supervisor_id, visit.visitor_id, others), waiting


def take_over(
    session: Session, reminder_id: int, *, actor: str, is_coordinator: bool | coordinators.Scope
) -> tuple[Stuck, bool]:
    """A coordinator takes a stuck decision over: as `stuck_decision`, but nobody takes over the
    host's side or the funding of their own visit or their staff's (NotAllowed)."""
    stuck, waiting = stuck_decision(session, reminder_id, actor=actor, is_coordinator=is_coordinator)
    if stuck.party.startswith(STOP_PARTY):  # a library's own answer: reminded, never taken over
        raise NotAllowed("reminders.stuck.stop_not_taken")
    conflict = conflict_of(
        stuck.party,
        actor,
        visitor_id=stuck.visitor_id,
        supervisor_id=stuck.supervisor_id,
        others=stuck.others,
    )
    if waiting and conflict:
        raise NotAllowed(conflict)
    return stuck, waiting


def remind_again(
    session: Session,
    reminder_id: int,
    *,
    actor: str,
    is_coordinator: bool | coordinators.Scope,
    now: datetime,
) -> tuple[Stuck, bool, int]:
    """A coordinator nudges the stuck party again, now (at most once a day per stuck reminder).
    Returns the decision, whether it still waits, and how many nudges were newly planned (0 when
    it no longer waits or was already reminded again today)."""
    stuck, waiting = stuck_decision(session, reminder_id, actor=actor, is_coordinator=is_coordinator)
    if not waiting:
        return stuck, False, 0
    tz = office_tz()
    day = now.astimezone(tz).date().isoformat()
    prefix = f"v{stuck.visit_id}:r{stuck.round}:{stuck.party}:again{reminder_id}:{day}:"
    keys = {prefix + user: user for user in stuck.deciders}
    known = set(session.scalars(select(Reminder.dedupe_key).where(Reminder.dedupe_key.in_(list(keys)))))
    for key, user in keys.items():
        if key not in known:
            reminders.add(
                session,
                key=key,
                kind=DECISION_NUDGE,
                recipient=user,
                due_at=now,
                now=now,
                tz=tz,
                visit_id=stuck.visit_id,
                params={"party": stuck.party, "round": stuck.round, "step": 0, "by": actor},
            )
    return stuck, True, len(keys) - len(known)


SNOOZE_MAX_WEEKS = 8  # "remind me on ...": at most this far ahead


def snooze_writeup(
    session: Session, reminder_id: int, *, actor: str, now: datetime, on: date | None = None
) -> datetime:
    """ "Remind me in a week" (or "on `on`", a day after today and at most SNOOZE_MAX_WEEKS
    ahead, at 9:00) on a write-up nag: only its recipient may; the next nag moves there (or a
    new one is planned if it was the last), once per nag. Returns the new time."""
    reminder = _own(session, reminder_id, (WRITEUP_NAG,))
    if reminder.recipient != actor:
        raise NotAllowed(NOT_YOURS)
    tz = office_tz()
    until = now + timedelta(weeks=1)
    if on is not None:
        today = now.astimezone(tz).date()
        if not today < on <= today + timedelta(weeks=SNOOZE_MAX_WEEKS):
            raise NotAllowed("reminders.snooze_to.range", weeks=SNOOZE_MAX_WEEKS)
        until = at_office(on, tz)
    following = session.scalars(
        select(Reminder)
        .where(
            Reminder.visit_id == reminder.visit_id,
            Reminder.kind == WRITEUP_NAG,
            Reminder.recipient == actor,
            Reminder.status == ReminderStatus.PENDING,
            Reminder.id != reminder.id,
        )
        .order_by(Reminder.next_attempt_at)
    ).first()
    if reminder.status == ReminderStatus.PENDING:
        following = reminder
    if following is not None:
        # A nag snoozes once: pressed again (no answer came, or the request was delivered twice),
        # it answers with the time already set and moves nothing.
        already = (following.params or {}).get("snoozed") == reminder.id
        if (on is not None or following.next_attempt_at < until) and not already:  # a day picked: that day
            reminders.snooze(session, following.id, actor, until, tz)
            following.params = {**(following.params or {}), "snoozed": reminder.id}
        nag_at = following.next_attempt_at
    else:
        nag_at = reminders.plan(
            session,
            kind=WRITEUP_NAG,
            recipient=actor,
            due_at=until,
            now=now,
            tz=tz,
            visit_id=reminder.visit_id,
            key=f"{reminder.dedupe_key}:snoozed",
            params={**(reminder.params or {}), "snoozed": reminder.id},
        ).next_attempt_at
    # The coordinators hear of a missing write-up only a week after the visitor's last nag.
    overdue_at = next_office_time(nag_at + timedelta(weeks=1), tz)
    for overdue in _pending(session, reminder.visit_id, (WRITEUP_OVERDUE,)):
        if overdue.next_attempt_at < overdue_at and overdue.claimed_at is None:
            overdue.next_attempt_at = overdue_at
    return nag_at


def _pending(session: Session, visit_id: int | None, kinds_: tuple[str, ...]) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder).where(
                Reminder.visit_id == visit_id,
                Reminder.status == ReminderStatus.PENDING,
                Reminder.kind.in_(kinds_),
            )
        )
    )

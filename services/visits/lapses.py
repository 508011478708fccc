"""When a request's deadline passes (`deadlines`), the visitor chooses: wait longer (a new
deadline, and the party is reminded now), give other dates (`replanning.redate`), send the
request on to the next library that offers the topic (`replanning.forward`, with the answers
so far), or withdraw (`state_machine.cancel`). This module holds the first and the choice of
libraries to send it to; the others are transitions of the state machine."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Reminder, Visit
from services.catalogue import libraries
from services.common import workdays
from services.common.errors import NotAllowed, NotFound
from services.outbox import reminders
from services.visits import deadlines, visit_reminders
from services.visits.visit_card import HostChoice, VisitCard, load, offering_hosts, read_card

NOT_YOURS = "reminders.not_yours"
ANSWERED = "reminders.deadline.answered"


def lapsed_request(session: Session, reminder_id: int, *, actor: str) -> tuple[Reminder, Visit, str]:
    """The deadline reminder the visitor pressed a button on, its visit and party, while the
    same round still waits for that party (NotAllowed otherwise; only the visitor may)."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.kind != deadlines.DECISION_DEADLINE or reminder.visit_id is None:
        raise NotFound()
    if reminder.recipient != actor:
        raise NotAllowed(NOT_YOURS)
    # The visit row locked: a press at once elsewhere, or a decision, waits for this one.
    visit = session.scalar(select(Visit).where(Visit.id == reminder.visit_id).with_for_update())
    if visit is None:
        raise NotFound()
    party = str((reminder.params or {}).get("party", ""))
    if visit.round != (reminder.params or {}).get("round") or party not in visit_reminders.waiting_parties(
        visit
    ):
        raise NotAllowed(ANSWERED)
    return reminder, visit, party


def wait_longer(session: Session, reminder_id: int, *, actor: str, now: datetime) -> date:
    """A new deadline for the party (the region's time to answer from today, still in time to
    arrange the trip), and a reminder to them now. Pressed twice: the same deadline, one
    reminder. Refused when the first date is too near to wait, or after MAX_WAITS waits."""
    reminder, visit, party = lapsed_request(session, reminder_id, actor=actor)
    params = reminder.params or {}
    waits = int(params.get("n", 0)) + 1
    prefix = f"v{visit.id}:r{visit.round}:{party}:"
    key = f"{prefix}deadline:wait{waits}"
    known = session.scalar(select(Reminder).where(Reminder.dedupe_key == key))
    if known is not None:
        return date.fromisoformat(str((known.params or {}).get("deadline")))
    later = session.scalar(
        select(Reminder.id).where(
            Reminder.dedupe_key.startswith(f"{prefix}deadline:wait"), Reminder.id > reminder.id
        )
    )
    if later is not None:  # an earlier DM pressed after a later wait: it has been answered
        raise NotAllowed(ANSWERED)
    if waits > deadlines.MAX_WAITS:
        raise NotAllowed("reminders.deadline.no_more_waiting")
    today = workdays.local_today(now)
    first = deadlines.first_day(visit)
    if first is not None and deadlines.latest_for(first) <= today:
        raise NotAllowed("reminders.deadline.too_near")
    by = deadlines.deadline_for(today, first, deadlines.answer_days(session, visit))
    tz = visit_reminders.office_tz()
    base = {"party": party, "round": visit.round}
    reminders.add(
        session,
        key=key,
        kind=deadlines.DECISION_DEADLINE,
        recipient=visit.visitor_id,
        due_at=deadlines.lapse_time(by, tz),
        now=now,
        tz=tz,
        visit_id=visit.id,
        params={**base, "deadline": by.isoformat(), "n": waits},
    )
    for user in visit_reminders.deciders(
        session, visit, party, visit_reminders.region_coordinators(session, visit)
    ):
        reminders.add(
            session,
            key=f"{prefix}wait{waits}:{user}",
            kind=visit_reminders.DECISION_NUDGE,
            recipient=user,
            due_at=now,
            now=now,
            tz=tz,
            visit_id=visit.id,
            params={**base, "step": 0, "deadline": by.isoformat()},
        )
    return by


def forward_choices(session: Session, visit: Visit, now: datetime) -> list[HostChoice]:
    """The libraries the request can go on to: those of the region that offer the topic, as
    `etsi` ranks them, with someone to answer, not the one asked now nor the visitor's own."""
    return [
        choice
        for choice in offering_hosts(
            session, visitor_library_id=visit.home_library_id, topic_id=visit.topic_id, now=now
        )
        if choice.library_id != visit.host_library_id and libraries.contacts_of(session, choice.library_id)
    ]


def forward_form(
    session_factory: sessionmaker[Session], reminder_id: int, *, actor: str, now: datetime
) -> tuple[VisitCard, list[HostChoice]]:
    """What the form to send a request on shows: the visit, and the libraries to choose from
    (NotAllowed when the host has answered meanwhile, or nobody else offers the topic)."""
    with session_factory() as session:
        _reminder, visit, party = lapsed_request(session, reminder_id, actor=actor)
        if party != "host" or visit.chosen_date is not None:
            raise NotAllowed(ANSWERED)
        choices = forward_choices(session, visit, now)
        if not choices:
            raise NotAllowed("reminders.deadline.nobody_else")
        return read_card(session, load(session, visit.id)), choices


def visit_of(session: Session, reminder_id: int) -> int:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None or reminder.visit_id is None:
        raise NotFound()
    return reminder.visit_id

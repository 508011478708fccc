"""Substitutes at work on visits: while a supervisor or a host contact is away (a period of
`services.people.substitutes`), the decisions they owe may be taken by their substitute, who
gets the visit's message with its buttons and the nudges; the decision log says "X on behalf of
Y"; and on the first working day after the period the person is told what was decided for them.

Everything that must happen at a time goes through the reminders table, so it happens once
whichever replica sweeps:

* `substitute_sync` (the period's first day, and the day after its last): an outbox row for each
  visit still waiting for the person, so that its messages are re-rendered (the substitute's
  posted with buttons, or kept current without them once the period is over);
* `substitute_back` (the first working day after, 9:00): the person's DM listing what was
  decided on their behalf (none: no DM);
* a decision nudge due to someone away is re-planned to their substitute (`redirect_nudge`).

The conflict rules hold for a substitute as for anyone: nobody consents to a trip they travel
on, nor decides the host's side of a visit they make, travel on or whose travellers they
supervise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Library,
    LibraryContact,
    PartyState,
    Reminder,
    ReminderStatus,
    Substitute,
    Topic,
    Visit,
    VisitDecision,
    VisitStatus,
    VisitTraveller,
)
from services.catalogue import libraries
from services.common.errors import InvalidInput
from services.common.office_hours import next_working_day
from services.common.workdays import HELSINKI, local_today
from services.outbox import reminders, visit_outbox
from services.outbox.reminders import DueReminder, Kinds
from services.people import substitutes
from services.people.substitutes import Away
from services.visits import travellers

SUBSTITUTE_SYNC = "substitute_sync"
SUBSTITUTE_BACK = "substitute_back"
SEND_AT = time(9, 0)
SUBSTITUTED = "substitute"  # the outbox event: the messages change, nobody is notified
NUDGE = "decision_nudge"  # visit_reminders.DECISION_NUDGE (that module imports this one)


# --- who may decide -----------------------------------------------------------------------------
def barred(visit: Visit, party: str) -> set[str]:
    """Who may not stand in for `party` on this visit: the travellers (their own trip); for the
    host's side also their supervisors and the visitor's."""
    people = {t.user_id for t in visit.travellers} | {visit.visitor_id}
    if party == "host":
        people |= travellers.everyone(visit) | {visit.supervisor_id}
    return people


def owed_by(session: Session, visit: Visit, party: str) -> list[str]:
    """Whose decision of `party` the visit waits for (a substitute may take it for them)."""
    if party == "supervisor":
        return travellers.waiting_supervisors(visit)
    if party == "host":
        return libraries.contacts_of(session, visit.host_library_id)
    return []


def stands_in(session: Session, visit: Visit, party: str, actor: str, today: date) -> list[str]:
    """Those whose `party` decision `actor` takes today as their substitute (empty: nobody's)."""
    if party not in ("supervisor", "host") or actor in barred(visit, party):
        return []
    owing = [user for user in owed_by(session, visit, party) if user != actor]
    return substitutes.on_behalf_of(session, actor, owing, today)


def check_substitute(session: Session, user: str, substitute: str) -> None:
    """A substitute who would decide their own visit: refused when the period is set (the
    conflict rules refuse the press anyway)."""
    for visit_id in pending_visits(session, user):
        visit = session.get(Visit, visit_id)
        if visit is None:
            continue
        for party in ("supervisor", "host"):
            if user in owed_by(session, visit, party) and substitute in barred(visit, party):
                raise InvalidInput.one("substitute", "substitutes.error.own_visit")


def pending_visits(session: Session, user: str) -> list[int]:
    """The proposed visits waiting for `user`'s decision as a supervisor or a host contact."""
    as_supervisor = (
        select(VisitTraveller.visit_id)
        .join(Visit, Visit.id == VisitTraveller.visit_id)
        .where(
            VisitTraveller.supervisor_id == user,
            VisitTraveller.consent == PartyState.PENDING,
            VisitTraveller.withdrawn_at.is_(None),
            Visit.status == VisitStatus.PROPOSED,
        )
    )
    as_host = (
        select(Visit.id)
        .join(LibraryContact, LibraryContact.library_id == Visit.host_library_id)
        .where(
            LibraryContact.slack_user_id == user,
            Visit.status == VisitStatus.PROPOSED,
            Visit.host_state == PartyState.PENDING,
        )
    )
    old_style = select(Visit.id).where(  # a visit a script wrote without traveller rows
        Visit.supervisor_id == user,
        Visit.status == VisitStatus.PROPOSED,
        Visit.supervisor_state == PartyState.PENDING,
        ~Visit.travellers.any(),
    )
    found = set(session.scalars(as_supervisor)) | set(session.scalars(as_host))
    found |= set(session.scalars(old_style))
    return sorted(found)


# --- setting and removing a period --------------------------------------------------------------
def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, SEND_AT, tzinfo=tz)


def _plan(session: Session, away: Away, *, now: datetime, tz: ZoneInfo) -> None:
    """The period's reminders: its start's and its end's message syncs, and the back DM."""
    today = local_today(now)
    base = {"substitute": away.id, "ends_on": away.ends_on.isoformat()}
    if away.starts_on <= today:
        owe_pending(session, away.user_id, now=now)
    else:
        reminders.plan(
            session,
            kind=SUBSTITUTE_SYNC,
            recipient=away.substitute_id,
            due_at=datetime.combine(away.starts_on, time(0, 0), tzinfo=tz),
            now=now,
            tz=tz,
            key=f"substitute:{away.id}:start",
            params={**base, "at": "start"},
        )
    after = away.ends_on + timedelta(days=1)
    reminders.plan(
        session,
        kind=SUBSTITUTE_SYNC,
        recipient=away.substitute_id,
        due_at=datetime.combine(after, time(0, 0), tzinfo=tz),
        now=now,
        tz=tz,
        key=f"substitute:{away.id}:end:{away.ends_on.isoformat()}",
        params={**base, "at": "end"},
    )
    reminders.plan(
        session,
        kind=SUBSTITUTE_BACK,
        recipient=away.user_id,
        due_at=_at(next_working_day(away.ends_on), tz),
        now=now,
        tz=tz,
        key=f"substitute:{away.id}:back:{away.ends_on.isoformat()}",
        params=base,
    )


def set_away(
    session_factory: sessionmaker[Session],
    user: str,
    substitute: str | None,
    starts_on: date | None,
    ends_on: date | None,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> Away:
    """`user` is away from `starts_on` to `ends_on` and `substitute` decides for them meanwhile.
    InvalidInput with the field errors (nothing is written then)."""
    with session_factory.begin() as session:
        away = substitutes.set_away(
            session, user, substitute, starts_on, ends_on, now=now, today=local_today(now)
        )
        check_substitute(session, user, away.substitute_id)
        _plan(session, away, now=now, tz=tz)
        return away


def remove(
    session_factory: sessionmaker[Session], user: str, period_id: int, *, now: datetime, tz: ZoneInfo
) -> Away:
    """`user` takes a period back: one ahead is forgotten; one under way ends yesterday (and they
    are told as usual what was decided meanwhile). The substitute's buttons go at once."""
    today = local_today(now)
    with session_factory.begin() as session:
        was, deleted = substitutes.remove(session, user, period_id, today=today)
        session.execute(
            update(Reminder)
            .where(
                Reminder.kind.in_([SUBSTITUTE_SYNC, SUBSTITUTE_BACK]),
                Reminder.status == ReminderStatus.PENDING,
                Reminder.dedupe_key.startswith(f"substitute:{period_id}:"),
            )
            .values(status=ReminderStatus.CANCELLED)
        )
        owe_pending(session, user, now=now)
        if not deleted:
            ended = today - timedelta(days=1)
            reminders.plan(
                session,
                kind=SUBSTITUTE_BACK,
                recipient=user,
                due_at=_at(next_working_day(ended), tz),
                now=now,
                tz=tz,
                key=f"substitute:{period_id}:back:{ended.isoformat()}",
                params={"substitute": period_id, "ends_on": ended.isoformat()},
            )
        return was


def owe_pending(session: Session, user: str, *, now: datetime) -> int:
    """An outbox row for each visit waiting for `user`: its messages are re-rendered by the
    sweep (the substitute's posted or updated). Returns how many."""
    visits = pending_visits(session, user)
    for visit_id in visits:
        sequence = session.scalar(select(Visit.ics_sequence).where(Visit.id == visit_id))
        params = {"event": SUBSTITUTED, "actor": user, "invite": None, "sequence": sequence}
        visit_outbox.owe_row(
            session, kind=visit_outbox.SYNC, visit_id=visit_id, params=params, now=now, claimed=False
        )
    return len(visits)


def sync_period(session_factory: sessionmaker[Session], reminder: DueReminder, now: datetime) -> None:
    """A `substitute_sync` reminder's delivery: the visits waiting for the person get their
    outbox rows (delivered by the sweep)."""
    with session_factory.begin() as session:
        row = session.get(Substitute, int(reminder.params.get("substitute") or 0))
        if row is not None:
            owe_pending(session, row.user_id, now=now)


# --- told when back -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Decided:
    """One decision a substitute took on someone's behalf, as the back DM lists it."""

    visit_id: int
    topic_names: dict[str, str]
    host_library_name: str
    party: str
    outcome: str
    decided_by: str
    at: datetime


@dataclass(frozen=True)
class BackReport:
    away: Away
    decided: tuple[Decided, ...]


def _decided(session: Session, row: Substitute, ends_on: date) -> list[Decided]:
    start = datetime.combine(row.starts_on, time(0, 0), tzinfo=HELSINKI)
    end = datetime.combine(ends_on + timedelta(days=1), time(0, 0), tzinfo=HELSINKI)
    found = session.execute(
        select(VisitDecision, Topic, Library)
        .join(Visit, Visit.id == VisitDecision.visit_id)
        .join(Topic, Topic.id == Visit.topic_id)
        .join(Library, Library.id == Visit.host_library_id)
        .where(
            VisitDecision.on_behalf_of == row.user_id,
            VisitDecision.decided_by == row.substitute_id,
            VisitDecision.at >= start,
            VisitDecision.at < end,
        )
        .order_by(VisitDecision.id)
    ).all()
    return [
        Decided(
            d.visit_id,
            {"fi": topic.name_fi, "sv": topic.name_sv, "en": topic.name_en},
            library.name,
            d.party,
            d.outcome,
            d.decided_by,
            d.at,
        )
        for d, topic, library in found
    ]


def back_report(
    session_factory: sessionmaker[Session], reminder: DueReminder, now: datetime
) -> BackReport | None:
    """What the back DM says (and the period is marked told); None: the period is gone."""
    with session_factory.begin() as session:
        row = session.get(Substitute, int(reminder.params.get("substitute") or 0))
        if row is None:
            return None
        ends_on = date.fromisoformat(str(reminder.params.get("ends_on") or row.ends_on.isoformat()))
        decided = _decided(session, row, ends_on)
        if row.back_told_at is None:
            row.back_told_at = now
        away = Away(row.id, row.user_id, row.substitute_id, row.starts_on, ends_on)
        return BackReport(away, tuple(decided))


def _period_of(session: Session, reminder: DueReminder) -> Substitute | None:
    row = session.get(Substitute, int(reminder.params.get("substitute") or 0))
    if row is None or row.ends_on.isoformat() != reminder.params.get("ends_on"):
        return None  # taken back (or shortened: its own reminders were planned then)
    return row


def sync_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    return _period_of(session, reminder) is not None


def back_still_due(session: Session, reminder: DueReminder, now: datetime) -> bool:
    """Only when something was decided on the person's behalf (nothing: no DM)."""
    row = _period_of(session, reminder)
    return row is not None and bool(_decided(session, row, row.ends_on))


# --- nudges ---------------------------------------------------------------------------------------
def redirect_nudge(session: Session, reminder: DueReminder, now: datetime, tz: ZoneInfo) -> bool:
    """A supervisor's or host's decision nudge due to someone away goes to their substitute
    instead (planned now, once per nudge); returns whether it still goes to its own recipient.
    A nudge to a substitute goes only while the period lasts."""
    party = str(reminder.params.get("party"))
    if reminder.kind != NUDGE or party not in ("supervisor", "host") or reminder.visit_id is None:
        return True
    today = local_today(now)
    principal = reminder.params.get("for")
    if principal:  # a substitute's nudge: only while they stand in
        return substitutes.acting_for(session, str(principal), today) == reminder.recipient
    substitute = substitutes.acting_for(session, reminder.recipient, today)
    if substitute is None:
        return True
    visit = session.get(Visit, reminder.visit_id)
    if visit is None or reminder.recipient not in stands_in(session, visit, party, substitute, today):
        return True  # the substitute may not take this one (their own trip): it stays theirs
    reminders.plan(
        session,
        kind=NUDGE,
        recipient=substitute,
        due_at=now,
        now=now,
        tz=tz,
        visit_id=reminder.visit_id,
        key=f"r{reminder.id}:for:{substitute}",
        params={**reminder.params, "for": reminder.recipient},
    )
    return False


def register(registry: Kinds) -> None:
    registry.register(SUBSTITUTE_SYNC, sync_still_due, anytime=True)
    registry.register(SUBSTITUTE_BACK, back_still_due)


def substituting_now(session: Session, user: str, today: date) -> list[Away]:
    """The periods under way in which `user` stands in for someone."""
    return [a for a in substitutes.substituting(session, user, today=today) if a.on(today)]

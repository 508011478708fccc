"""What every transition of a visit shares: one unit of work that locks the visit row and is
guarded by its `version` (two presses at once yield one decision), the decision and its audit
entry, the outbox row the change owes, and the refusals of a press that came too late or from
someone it is not for. `state_machine` and `after_the_day` are built of these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models import PartyState, Visit, VisitDecision, VisitStatus
from services.catalogue import libraries
from services.common import audit, workdays
from services.common.errors import Conflict, NotAllowed
from services.outbox import visit_outbox
from services.people.coordinators import Scope, covers
from services.visits import stop_info, visit_reminders
from services.visits.proposing import MAX_TEXT
from services.visits.visit_card import Change, load, read_card

NOT_YOURS = "visits.not_yours"
PARTIES = ("supervisor", "host", "funding")


class AlreadyDecided(Conflict):
    """The press came too late: someone decided (or the visit changed) first."""

    key = "visits.already_decided"

    def __init__(self, visit_id: int, key: str | None = None, /, **params: object) -> None:
        super().__init__(key or type(self).key, **params)
        self.visit_id = visit_id


def transition(
    session_factory: sessionmaker[Session],
    visit_id: int,
    actor: str,
    now: datetime,
    apply: Callable[[Session, Visit], tuple[str, str | None]],
) -> Change:
    try:
        with session_factory.begin() as session:
            visit = load(session, visit_id, lock=True)
            day = visit.chosen_date
            event, invite = apply(session, visit)
            if visit.chosen_date != day:  # a study trip's further stops are asked for the new day
                stop_info.reask(visit)
            visit.updated_at = now
            session.flush()
            visit_reminders.sync(session, visit, now)  # plan or cancel what the new state needs
            # In the same unit of work: what the change owes its people (see visit_outbox).
            owed = visit_outbox.owe(session, visit, event=event, actor=actor, invite=invite, now=now)
            card = read_card(session, visit)
    except StaleDataError:
        with session_factory() as session:
            visit = load(session, visit_id)
            raise already(session, visit, None) from None
    return Change(card, event, actor, invite, outbox=owed)


def check_visitor(session: Session, visit: Visit, actor: str, is_coordinator: bool | Scope) -> None:
    if not (actor == visit.visitor_id or covers(is_coordinator, libraries.region_of(session, visit))):
        raise NotAllowed(NOT_YOURS)


def check_open(session: Session, visit: Visit, now: datetime) -> None:
    if visit.status not in (VisitStatus.PROPOSED, VisitStatus.CONFIRMED):
        raise already(session, visit, None)
    if visit.chosen_date is not None and visit.chosen_date <= workdays.local_today(now):
        # after the day only while nobody has said it happened: it was moved, or did not happen
        if not (visit.status == VisitStatus.CONFIRMED and visit.happened is None):
            raise AlreadyDecided(visit.id, "visits.error.already_happened")


def already(session: Session, visit: Visit, party: str | None) -> AlreadyDecided:
    """Who decided it first: the party's latest decision, else the visit's latest."""
    stmt = select(VisitDecision).where(VisitDecision.visit_id == visit.id)
    if party in PARTIES:
        stmt = stmt.where(VisitDecision.party == party)
    last = session.scalar(stmt.order_by(VisitDecision.id.desc()).limit(1))
    if last is None or last.outcome == "lapsed":
        return AlreadyDecided(visit.id, "visits.changed")
    return AlreadyDecided(
        visit.id, "visits.already_decided", who=f"<@{last.decided_by}>", outcome=last.outcome
    )


def record(
    session: Session,
    visit: Visit,
    party: str,
    actor: str,
    outcome: str,
    reason: str,
    now: datetime,
    dates: list[str] | None = None,
    *,
    people: list[str] | None = None,
    extra: dict[str, object] | None = None,
    on_behalf_of: str | None = None,
) -> None:
    """The decision and its audit entry. `on_behalf_of`: the person away whose decision
    `actor`, their substitute, took."""
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
            on_behalf_of=on_behalf_of,
        )
    )
    details: dict[str, object] = {"party": party, "outcome": outcome, "round": visit.round}
    if reason:
        details["reason"] = reason
    if dates:
        details["dates"] = dates
    if people:
        details["travellers"] = people
    details.update(extra or {})
    if on_behalf_of:
        details["on_behalf_of"] = on_behalf_of
    audit.record(
        session,
        now=now,
        actor=actor,
        action=f"visit.{outcome}",
        entity="visit",
        entity_id=visit.id,
        details=details,
    )


def end(visit: Visit, status: VisitStatus) -> str | None:
    visit.status = status
    if visit.invite_sent:
        visit.ics_sequence += 1
        return "cancel"
    return None


def check_state(session: Session, visit: Visit, party: str, round_: int | None) -> None:
    if visit.status != VisitStatus.PROPOSED or (round_ is not None and round_ != visit.round):
        raise already(session, visit, party)
    if party == "visitor":
        if visit.host_state not in (PartyState.COUNTERED, PartyState.LAPSED):
            raise already(session, visit, party)
    elif getattr(visit, f"{party}_state") != PartyState.PENDING:
        raise already(session, visit, party)

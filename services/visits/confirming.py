"""When a visit is confirmed: every party has said yes (each traveller's supervisor, the host with
the day, funding, and on a study trip every further stop still on it), and the agreed day still
works at the moment of the last yes; a late last yes on a day that has gone lets the day be
chosen again instead (`replanning.date_gone`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import PartyState, Visit, VisitStatus
from services.visits.replanning import date_gone, gone


def stops_agreed(visit: Visit) -> bool:
    """Has every further stop still on the trip accepted (`services.visits.stops`)?"""
    return all(s.state == PartyState.APPROVED for s in visit.stops if s.removed_at is None)


def maybe_confirm(
    session: Session, visit: Visit, event: str, actor: str, now: datetime
) -> tuple[str, str | None]:
    """Confirm when every party has said yes, unless the agreed day no longer works by now (a
    late last yes): then the dates lapse instead."""
    if (
        visit.supervisor_state == PartyState.APPROVED
        and visit.host_state == PartyState.APPROVED
        and visit.funding_state == PartyState.APPROVED
        and visit.chosen_date is not None
        and stops_agreed(visit)
    ):
        if gone(session, visit, visit.chosen_date, now):
            return date_gone(session, visit, actor, now)
        visit.status = VisitStatus.CONFIRMED
        if visit.invite_sent:
            visit.ics_sequence += 1
        visit.invite_sent = True
        return "confirmed", "send"
    return event, None

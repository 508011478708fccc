"""After the day: did the agreed visit happen?

On the first working day after the visit the visitor is asked (the first write-up nag asks it):
it happened (the write-up nags and the travel invoice reminders go on), it was moved (the move
form, as before the day), or it did not happen: the visit ends as cancelled, which releases the
budget it had committed, and the report counts it as not happened. Unanswered, the write-up nag
asks the question too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from models import Visit, VisitStatus
from services.common import workdays
from services.people.coordinators import Scope
from services.visits.transitions import AlreadyDecided, check_visitor, end, record, transition
from services.visits.visit_card import Change

NOT_HAPPENED = "not_happened"  # the decision's outcome, which the report counts


def asks_whether_it_happened(visit: Visit, today: object) -> bool:
    """Is the visitor's answer owed: agreed, its day come, no answer yet?"""
    return (
        visit.status == VisitStatus.CONFIRMED
        and visit.happened is None
        and visit.chosen_date is not None
        and visit.chosen_date <= today  # type: ignore[operator]
    )


def answer(
    session_factory: sessionmaker[Session],
    visit_id: int,
    *,
    happened: bool,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
) -> Change:
    """The visitor (or a coordinator of the region) says whether the visit happened."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        if not asks_whether_it_happened(visit, workdays.local_today(now)):
            raise AlreadyDecided(visit.id, "visits.happened.already")
        visit.happened = happened
        if happened:
            record(session, visit, "visitor", actor, "happened", "", now)
            return "happened", None
        record(session, visit, "visitor", actor, NOT_HAPPENED, "", now)
        end(visit, VisitStatus.CANCELLED)  # its committed budget is released; no calendar to fix
        return NOT_HAPPENED, None

    return transition(session_factory, visit_id, actor, now, apply)

"""Study trips to several libraries: the trip's stops, what each stop's host decides, and what the
visitor does when a stop declines.

A trip has 1-4 stops. Stop 1 is the visit's own host (`Visit.host_library_id`, `Visit.topic_id`):
with it the day is agreed, as for any visit. Stops 2-4 are `VisitStop` rows, each a library that
offers the stop's topic. Their hosts are asked once the day is known, and each accepts a time slot
of that day (morning or afternoon) or declines; the trip is confirmed when every stop still on
the trip has accepted (and the supervisors and funding have said yes). When the agreed day
changes, the stops are asked again for the new one (`stop_info.reask`, in every transition).

A declined stop does not end the trip: the visitor goes on without it (`go_on`), replaces it with
another library that offers its topic (`replace`), or cancels; so may they a stop whose host does
not answer (its contacts are nudged, and the coordinators told it is stuck, as for any decision). The route's kilometres are one
figure for the whole trip, entered by the visitor; `straight_line_km` is the sum of the legs as
the crow flies (`stop_info.straight_line_km`: home, the stops in order, home), shown beside it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from models import (
    Library,
    PartyState,
    Visit,
    VisitStatus,
    VisitStop,
)
from services.catalogue import libraries
from services.common.errors import InvalidInput, NotAllowed, NotFound
from services.people.coordinators import Scope
from services.visits import travellers
from services.visits.confirming import maybe_confirm
from services.visits.conflicts import HOST_CONFLICT
from services.visits.stop_info import SLOTS, check
from services.visits.transitions import NOT_YOURS, already, check_visitor, record, transition
from services.visits.visit_card import Change, HostChoice, offering_hosts

STOP_PARTY = "stop"  # the decision log's party of a further stop's host


def active(visit: Visit) -> list[VisitStop]:
    return [s for s in visit.stops if s.active]


def _stop(session: Session, visit: Visit, position: int) -> VisitStop:
    stop = next((s for s in visit.stops if s.position == position), None)
    if stop is None:
        raise NotFound()
    return stop


def decide(
    session_factory: sessionmaker[Session],
    visit_id: int,
    position: int,
    *,
    slot: str | None,
    actor: str,
    now: datetime,
    round_: int | None = None,
    reason: str = "",
) -> Change:
    """A contact of a further stop's library accepts a slot of the agreed day (`slot`) or declines
    (`slot` None). Only while the visit is proposed, in the same round, the day agreed and the
    stop still waiting."""
    if slot is not None and slot not in SLOTS:
        raise NotFound()

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        stop = _stop(session, visit, position)
        if actor not in libraries.contacts_of(session, stop.library_id):
            raise NotAllowed(NOT_YOURS)
        if actor in travellers.everyone(visit) | {visit.visitor_id, visit.supervisor_id}:
            raise NotAllowed(HOST_CONFLICT)  # nobody answers for a library on a trip they make
        if (
            visit.status != VisitStatus.PROPOSED
            or (round_ is not None and round_ != visit.round)
            or visit.chosen_date is None
            or not stop.active
            or stop.state != PartyState.PENDING
        ):
            raise already(session, visit, None)
        stop.decided_by = actor
        extra: dict[str, object] = {"stop": position, "library": stop.library_id}
        if slot is None:
            stop.state = PartyState.DECLINED
            record(session, visit, STOP_PARTY, actor, "declined", reason, now, extra=extra)
            return "stop_declined", None
        stop.state, stop.slot = PartyState.APPROVED, slot
        record(session, visit, STOP_PARTY, actor, "approved", "", now, extra={**extra, "slot": slot})
        return maybe_confirm(session, visit, "stop_approved", actor, now)

    return transition(session_factory, visit_id, actor, now, apply)


def _open_to_change(session: Session, visit: Visit, position: int, round_: int | None) -> VisitStop:
    """A stop the visitor may leave out or replace: one that declined, or one that has not
    answered since the day was agreed (nobody stalls a trip: the visitor goes on without it)."""
    stop = _stop(session, visit, position)
    declined = stop.state == PartyState.DECLINED
    silent = stop.state == PartyState.PENDING and visit.chosen_date is not None
    if (
        visit.status != VisitStatus.PROPOSED
        or (round_ is not None and round_ != visit.round)
        or not stop.active
        or not (declined or silent)
    ):
        raise already(session, visit, None)
    return stop


def go_on(
    session_factory: sessionmaker[Session],
    visit_id: int,
    position: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
) -> Change:
    """The visitor goes on without a stop that declined or does not answer."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        stop = _open_to_change(session, visit, position, round_)
        stop.removed_at = now
        record(session, visit, "visitor", actor, "stop_left_out", "", now, extra={"stop": position})
        return maybe_confirm(session, visit, "stop_left_out", actor, now)

    return transition(session_factory, visit_id, actor, now, apply)


def replace_choices(
    session_factory: sessionmaker[Session], visit_id: int, position: int, *, now: datetime
) -> list[HostChoice]:
    """The libraries that could take a stop's place: those offering its topic, as `etsi` ranks
    them, with a contact, none already on the trip."""
    with session_factory() as session:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise NotFound()
        stop = _stop(session, visit, position)
        taken = {visit.host_library_id, *(s.library_id for s in visit.stops)}
        return [
            c
            for c in offering_hosts(
                session, visitor_library_id=visit.home_library_id, topic_id=stop.topic_id, now=now
            )
            if c.library_id not in taken and libraries.contacts_of(session, c.library_id)
        ]


def replace(
    session_factory: sessionmaker[Session],
    visit_id: int,
    position: int,
    library_id: int,
    *,
    actor: str,
    is_coordinator: bool | Scope,
    now: datetime,
    round_: int | None = None,
) -> Change:
    """The visitor replaces a stop that declined or does not answer with another library offering
    its topic; its host is asked at once (the day is agreed)."""

    def apply(session: Session, visit: Visit) -> tuple[str, str | None]:
        check_visitor(session, visit, actor, is_coordinator)
        stop = _open_to_change(session, visit, position, round_)
        if library_id == stop.library_id:
            raise InvalidInput({"stop": ("visits.error.stop_same", {})})
        home = session.get(Library, visit.home_library_id)
        others = [(s.library_id, s.topic_id) for s in active(visit) if s.position != position]
        _found, error = check(
            session, [*others, (library_id, stop.topic_id)], home=home, host_library_id=visit.host_library_id
        )
        if error is not None:
            raise InvalidInput({"stop": error})
        before = stop.library_id
        stop.library_id, stop.state, stop.slot, stop.decided_by = library_id, PartyState.PENDING, "", None
        record(
            session,
            visit,
            "visitor",
            actor,
            "stop_replaced",
            "",
            now,
            extra={"stop": position, "from": before, "to": library_id},
        )
        return "stop_replaced", None

    return transition(session_factory, visit_id, actor, now, apply)

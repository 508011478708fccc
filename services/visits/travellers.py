"""Who travels: the visitor and 0-5 colleagues, each with the supervisor who consents for them.

A supervisor decides once for all of their own people on the visit (`staff_of`); the visit's
supervisor side (`Visit.supervisor_state`) is approved when every active traveller's consent is.
The visitor's own supervisor declining ends the visit; a colleague's supervisor declining, or a
colleague withdrawing, takes only that colleague off the trip, and the visit goes on for the
others. The visitor is traveller 0 and drives when the travel is by car (one car: the km
allowance is paid once, to the driver).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from models import PartyState, Visit, VisitTraveller

MAX_COLLEAGUES = 5
Errors = dict[str, tuple[str, dict[str, object]]]


@dataclass(frozen=True)
class TravellerInfo:
    """A traveller as the messages show them."""

    user_id: str
    supervisor_id: str
    consent: PartyState
    withdrawn: bool = False

    @property
    def active(self) -> bool:
        return not self.withdrawn


def info_of(visit: Visit) -> tuple[TravellerInfo, ...]:
    """The travellers as the card shows them (none for a visit a script wrote without them)."""
    return tuple(
        TravellerInfo(t.user_id, t.supervisor_id, t.consent, t.withdrawn_at is not None)
        for t in visit.travellers
    )


def visitor_of(visit: Visit) -> VisitTraveller:
    """The visitor's row (made for a visit that has none yet, such as one a script wrote)."""
    if not visit.travellers:
        visit.travellers.append(
            VisitTraveller(
                position=0,
                user_id=visit.visitor_id,
                supervisor_id=visit.supervisor_id,
                consent=visit.supervisor_state
                if visit.supervisor_state in (PartyState.APPROVED, PartyState.DECLINED)
                else PartyState.PENDING,
            )
        )
    return visit.travellers[0]


def active(visit: Visit) -> list[VisitTraveller]:
    return [t for t in visit.travellers if t.withdrawn_at is None]


def supervisors_of(visit: Visit) -> list[str]:
    """The supervisors of the active travellers, each once, the visitor's first."""
    visitor_of(visit)
    return list(dict.fromkeys(t.supervisor_id for t in active(visit)))


def waiting_supervisors(visit: Visit) -> list[str]:
    """The supervisors who have yet to consent for someone of theirs."""
    visitor_of(visit)
    return list(dict.fromkeys(t.supervisor_id for t in active(visit) if t.consent == PartyState.PENDING))


def staff_of(visit: Visit, supervisor: str) -> list[VisitTraveller]:
    """The active travellers `supervisor` consents for."""
    return [t for t in active(visit) if t.supervisor_id == supervisor]


def everyone(visit: Visit) -> set[str]:
    """The travellers and their supervisors, withdrawn ones too: none of them decides the
    host's side or the funding of this visit."""
    return {t.user_id for t in visit.travellers} | {t.supervisor_id for t in visit.travellers}


def settle(visit: Visit) -> None:
    """The supervisor side as the consents stand (a decline of the visitor's is final)."""
    if visit.supervisor_state == PartyState.DECLINED:
        return
    consents = [t.consent for t in active(visit)]
    visit.supervisor_state = (
        PartyState.APPROVED
        if consents and all(c == PartyState.APPROVED for c in consents)
        else PartyState.PENDING
    )


def consent(visit: Visit, supervisor: str, *, approve: bool, now: datetime) -> list[str]:
    """`supervisor` decides for all of their people on the visit; returns whom it concerned.
    A decline takes those people off the trip (unless it is the visitor's: that ends the visit,
    which the caller does)."""
    people = [t for t in staff_of(visit, supervisor) if t.consent == PartyState.PENDING]
    for traveller in people:
        traveller.consent = PartyState.APPROVED if approve else PartyState.DECLINED
        if not approve and traveller.position > 0:
            traveller.withdrawn_at = now
    settle(visit)
    return [t.user_id for t in people]


def ask_again(visit: Visit) -> None:
    """New dates ask every supervisor again."""
    for traveller in active(visit):
        traveller.consent = PartyState.PENDING
    if visit.supervisor_state != PartyState.DECLINED:
        visit.supervisor_state = PartyState.PENDING
    settle(visit)


def concerned(visit: Visit) -> list[VisitTraveller]:
    """The travellers a supervisor line names: those going, and those their supervisor declined."""
    return [t for t in visit.travellers if t.withdrawn_at is None or t.consent == PartyState.DECLINED]


def make(visitor_id: str, supervisor_id: str, colleagues: Sequence[tuple[str, str]]) -> list[VisitTraveller]:
    """The traveller rows of a new proposal: the visitor, then the colleagues in the order given."""
    rows = [
        VisitTraveller(
            position=0, user_id=visitor_id, supervisor_id=supervisor_id, consent=PartyState.PENDING
        )
    ]
    rows += [  # every consent is asked, a visitor who brings their own staff's too (nothing proves it)
        VisitTraveller(position=n, user_id=user, supervisor_id=boss, consent=PartyState.PENDING)
        for n, (user, boss) in enumerate(colleagues, start=1)
    ]
    return rows


def check_colleagues(
    colleagues: Sequence[str],
    supervisors: Mapping[str, str | None],
    *,
    visitor_id: str,
    visitor_supervisor: str | None,
    unknown: frozenset[str] = frozenset(),
) -> tuple[list[tuple[str, str]], Errors]:
    """The colleagues with their supervisors (the visitor's when none was named), or the field
    errors: at most five, each a person other than the visitor, no one their own supervisor."""
    errors: Errors = {}
    chosen = list(dict.fromkeys(c for c in colleagues if c))
    if len(chosen) > MAX_COLLEAGUES:
        errors["colleagues"] = ("visits.error.colleagues_many", {"max": MAX_COLLEAGUES})
    elif visitor_id in chosen:
        errors["colleagues"] = ("visits.error.colleague_self", {})
    elif unknown & set(chosen):
        errors["colleagues"] = ("visits.error.colleague_unknown", {})
    result: list[tuple[str, str]] = []
    for user in chosen:
        boss = supervisors.get(user) or visitor_supervisor
        if boss is None:
            continue  # the visitor's supervisor field says what is missing
        if boss == user or boss in unknown:
            errors[f"colleague_supervisor_{user}"] = ("visits.error.colleague_supervisor", {})
        result.append((user, boss))
    return result, errors

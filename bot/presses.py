"""The decision buttons of a visit's messages, platform-free: which transition each button's
action id stands for. A button carries ids only (`visit:round[:date]`, see
bot.views.visit.parse_value); the service checks who pressed and whether the visit is still in a
state where the press makes sense. Slack's listeners (handlers/decide.py) and Teams' card actions
(teams/handlers.py) both press through here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from services.people.coordinators import Scope
from services.visits import after_the_day, state_machine, stops
from services.visits.stop_info import SLOTS
from services.visits.visit_card import Change


@dataclass(frozen=True)
class Press:
    """One press: the visit, its round and the date (or a stop's position) the button carries,
    who pressed, where they coordinate, and when."""

    session_factory: sessionmaker[Session]
    visit_id: int
    round_: int
    extra: int | None
    actor: str
    scope: Scope
    now: datetime


Transition = Callable[[Press], Change]


def decide(party: str) -> Transition:
    def transition(p: Press) -> Change:
        return state_machine.decide(
            p.session_factory,
            p.visit_id,
            party=party,
            approve=True,
            actor=p.actor,
            is_coordinator=p.scope,
            now=p.now,
            round_=p.round_,
            date_id=p.extra if party == "host" else None,
        )

    return transition


def pick(p: Press) -> Change:
    return state_machine.pick(
        p.session_factory,
        p.visit_id,
        p.extra or 0,
        actor=p.actor,
        is_coordinator=p.scope,
        now=p.now,
        round_=p.round_,
    )


def cancel(p: Press) -> Change:
    return state_machine.cancel(
        p.session_factory, p.visit_id, actor=p.actor, is_coordinator=p.scope, now=p.now
    )


def withdraw(p: Press) -> Change:
    return state_machine.withdraw(p.session_factory, p.visit_id, actor=p.actor, now=p.now)


def happened(yes: bool) -> Transition:
    def transition(p: Press) -> Change:
        return after_the_day.answer(
            p.session_factory, p.visit_id, happened=yes, actor=p.actor, is_coordinator=p.scope, now=p.now
        )

    return transition


def stop_answer(slot: str | None) -> Transition:
    def transition(p: Press) -> Change:
        return stops.decide(
            p.session_factory, p.visit_id, p.extra or 0, slot=slot, actor=p.actor, now=p.now, round_=p.round_
        )

    return transition


def go_on(p: Press) -> Change:
    return stops.go_on(
        p.session_factory,
        p.visit_id,
        p.extra or 0,
        actor=p.actor,
        is_coordinator=p.scope,
        now=p.now,
        round_=p.round_,
    )


# Action id -> transition; the host's and the visitor's date buttons end in "_<n>".
PRESSES: dict[str, Transition] = {
    ids.SUPERVISOR_APPROVE: decide("supervisor"),
    ids.FUNDING_APPROVE: decide("funding"),
    ids.VISIT_CANCEL: cancel,
    ids.VISIT_WITHDRAW: withdraw,
    ids.HAPPENED_YES: happened(True),
    ids.HAPPENED_NO: happened(False),
    ids.STOP_DECLINE: stop_answer(None),
    ids.STOP_GO_ON: go_on,
    **{f"{ids.STOP_ACCEPT}_{slot}": stop_answer(slot) for slot in SLOTS},
}
NUMBERED: dict[str, Transition] = {ids.HOST_ACCEPT: decide("host"), ids.VISITOR_PICK: pick}
NUMBERED_ID = re.compile(r"^(.+)_\d+$")


def transition_of(action_id: str) -> Transition | None:
    """The transition a button stands for; None for a button that is not a decision press."""
    found = PRESSES.get(action_id)
    if found is not None:
        return found
    numbered = NUMBERED_ID.match(action_id)
    return NUMBERED.get(numbered.group(1)) if numbered else None

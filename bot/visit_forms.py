"""The small forms of a visit's messages and reminders (decline reason, other dates, move, new
dates, send on, another stop), platform-free: which form a button opens once the server agrees
that this person may use it now, and what a submitted form does. Slack's listeners
(handlers/decide.py) show the form as a modal, Teams (teams/visit_dialogs.py) as a dialog; both
read the submitted view state (Slack's shape) here and call the same service.

A form's `private_metadata` comes back from the client and could be changed: every service call
checks again who may act on the visit it names."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from bot.forms import date_of, dates_of, option_of, state_of, text_of
from bot.views.propose import (
    FIELD_BLOCKS,
    counter_modal,
    decline_modal,
    forward_modal,
    move_modal,
    redate_modal,
)
from bot.views.stops import replace_modal
from bot.views.visit import parse_value
from models import PartyState, Visit, VisitStatus
from services.common.errors import InvalidInput, NotAllowed, NotFound
from services.people.coordinators import Scope
from services.visits import lapses, replanning, state_machine, stops, visit_card, visit_lists
from services.visits.state_machine import AlreadyDecided
from services.visits.visit_card import Change

DECLINE_BUTTONS = {
    ids.SUPERVISOR_DECLINE: "supervisor",
    ids.HOST_DECLINE: "host",
    ids.FUNDING_DECLINE: "funding",
}
# The buttons that open one of these forms.
FORM_BUTTONS = frozenset(
    {
        *DECLINE_BUTTONS,
        ids.HOST_COUNTER,
        ids.VISIT_MOVE,
        ids.HAPPENED_MOVED,
        ids.VISIT_REDATE,
        ids.DEADLINE_FORWARD,
        ids.STOP_REPLACE,
    }
)
FORWARD_BLOCKS = {"host": ids.FORWARD_HOST, "km": ids.PROPOSE_KM}
DECLINE_BLOCKS = {"reason": ids.DECLINE_REASON}
STOP_BLOCKS = {"stop": ids.STOP_REPLACE_HOST}


@dataclass(frozen=True)
class Actor:
    """Who opens or submits a form, where they coordinate, and when."""

    session_factory: sessionmaker[Session]
    person: str
    scope: Scope
    now: datetime
    months_ahead: int = 6


def metadata_of(view: dict[str, Any]) -> tuple[int, int, str]:
    """The visit, round and party a form carries (ValueError/KeyError when it is not a visit's)."""
    data = json.loads(view.get("private_metadata") or "{}")
    if not isinstance(data, dict):
        raise ValueError("not a visit")
    visit_id, round_ = ids.row_id(data["visit"]), ids.row_id(data["round"])
    if visit_id is None or round_ is None:
        raise ValueError("not a visit")
    return visit_id, round_, str(data["party"])


# --- opening ---------------------------------------------------------------------------------
def _has_date(card: visit_card.VisitCard) -> bool:
    return card.chosen_date is not None


def _unanswered(card: visit_card.VisitCard) -> bool:
    """It was moved: the move form, after the day too, while nobody has said it happened."""
    return card.status == VisitStatus.CONFIRMED and card.happened is None and card.chosen_date is not None


def _lapsed(card: visit_card.VisitCard) -> bool:
    """The dates lapsed, or the host has not answered (its deadline)."""
    waiting = card.asks("host") and card.chosen_date is None
    return waiting or (card.asks("visitor") and card.host_state == PartyState.LAPSED)


def _card_for(
    a: Actor,
    value: str,
    party: str,
    ready: Callable[[visit_card.VisitCard], bool] = _has_date,
) -> visit_card.VisitCard:
    """The visit, once the server agrees that this person may make the party's decision now (for
    the visitor's forms: the visit is theirs, and `ready`)."""
    visit_id, round_, _ = parse_value(value)
    if party != "visitor":
        return state_machine.check_may_decide(
            a.session_factory,
            visit_id,
            party=party,
            actor=a.person,
            is_coordinator=a.scope,
            round_=round_,
            now=a.now,
        )
    card = visit_lists.card_of(a.session_factory, visit_id)
    if not (a.person == card.visitor_id or a.scope.covers(card.region_id)):
        raise NotAllowed(state_machine.NOT_YOURS)
    if card.round != round_ or not ready(card):
        raise AlreadyDecided(card.id, "visits.changed")
    return card


def form_of(a: Actor, t: Any, action_id: str, value: str) -> dict[str, Any]:
    """The form (a Slack modal view) a button opens. Raises AlreadyDecided (the message is
    stale), DomainError (not this person's, or no longer possible), ValueError/KeyError (not a
    button of a visit)."""
    if action_id in DECLINE_BUTTONS:
        party = DECLINE_BUTTONS[action_id]
        return decline_modal(t, _card_for(a, value, party), party)
    if action_id == ids.HOST_COUNTER:
        return counter_modal(t, _card_for(a, value, "host"))
    if action_id == ids.VISIT_MOVE:
        return move_modal(t, _card_for(a, value, "visitor"))
    if action_id == ids.HAPPENED_MOVED:
        return move_modal(t, _card_for(a, value, "visitor", _unanswered))
    if action_id == ids.VISIT_REDATE:
        return redate_modal(t, _card_for(a, value, "visitor", _lapsed))
    if action_id == ids.DEADLINE_FORWARD:
        card, choices = lapses.forward_form(
            a.session_factory, ids.row_id(value) or 0, actor=a.person, now=a.now
        )
        return forward_modal(t, card, choices)
    if action_id == ids.STOP_REPLACE:
        visit_id, _round, position = parse_value(value)
        card = visit_lists.card_of(a.session_factory, visit_id)
        if a.person != card.visitor_id or card.stop_at(position or 0) not in card.changeable_stops:
            raise NotAllowed(state_machine.NOT_YOURS if a.person != card.visitor_id else "visits.changed")
        choices = stops.replace_choices(a.session_factory, visit_id, position or 0, now=a.now)
        return replace_modal(t, card, position or 0, choices)
    raise KeyError(action_id)


def _still_unanswered(card: visit_card.VisitCard) -> bool:
    return card.asks("host") and card.chosen_date is None


def form_again(a: Actor, t: Any, view: dict[str, Any]) -> dict[str, Any]:
    """The form a submitted view came from, to show it again (its errors, or Teams reading what
    it posted), with the same checks as opening it: the metadata names the visit, and this
    person must still be the one who may use the form (else as `form_of`)."""
    callback = str(view.get("callback_id") or "")
    if callback == ids.STOP_REPLACE_VIEW:
        return form_of(a, t, ids.STOP_REPLACE, str(view.get("private_metadata") or ""))
    visit_id, round_, party = metadata_of(view)
    value = f"{visit_id}:{round_}"
    if callback == ids.DECLINE_VIEW:
        button = next((b for b, p in DECLINE_BUTTONS.items() if p == party), None)
        if button is None:
            raise ValueError(party)
        return form_of(a, t, button, value)
    if callback == ids.COUNTER_VIEW:
        return form_of(a, t, ids.HOST_COUNTER, value)
    if callback == ids.MOVE_VIEW:
        return form_of(a, t, ids.VISIT_MOVE, value)
    if callback == ids.REDATE_VIEW:
        return form_of(a, t, ids.VISIT_REDATE, value)
    if callback == ids.FORWARD_VIEW:
        card = _card_for(a, value, "visitor", _still_unanswered)
        with a.session_factory() as session:
            visit = session.get(Visit, visit_id)
            if visit is None:
                raise NotFound()
            choices = lapses.forward_choices(session, visit, a.now)
        if not choices:
            raise NotAllowed("reminders.deadline.nobody_else")
        return forward_modal(t, card, choices)
    raise KeyError(callback)


# --- submitting ------------------------------------------------------------------------------
def decline(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, round_, party = metadata_of(view)
    reason = text_of(state_of(view), ids.DECLINE_REASON).strip()
    if not reason:
        raise InvalidInput.one("reason", "visits.error.reason")
    return state_machine.decide(
        a.session_factory,
        visit_id,
        party=party,
        approve=False,
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        round_=round_,
        reason=reason,
    )


def counter(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, round_, _party = metadata_of(view)
    values = state_of(view)
    return state_machine.counter(
        a.session_factory,
        visit_id,
        dates_of(values),
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        round_=round_,
        reason=text_of(values, ids.DECLINE_REASON),
        months_ahead=a.months_ahead,
    )


def move(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, _round, _party = metadata_of(view)
    values = state_of(view)
    return state_machine.move(
        a.session_factory,
        visit_id,
        date_of(values, f"{ids.PROPOSE_DATE}_1"),
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        km=text_of(values, ids.PROPOSE_KM),
        tickets=text_of(values, ids.PROPOSE_TICKETS),
        accommodation=text_of(values, ids.PROPOSE_ACCOMMODATION),
        months_ahead=a.months_ahead,
    )


def redate(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, round_, _party = metadata_of(view)
    return replanning.redate(
        a.session_factory,
        visit_id,
        dates_of(state_of(view)),
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        round_=round_,
        months_ahead=a.months_ahead,
    )


def forward(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, round_, _party = metadata_of(view)
    values = state_of(view)
    return replanning.forward(
        a.session_factory,
        visit_id,
        ids.row_id(option_of(values, ids.FORWARD_HOST)),
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        round_=round_,
        km=text_of(values, ids.PROPOSE_KM),
    )


def replace_stop(a: Actor, view: dict[str, Any]) -> Change:
    visit_id, round_, position = parse_value(str(view.get("private_metadata") or ""))
    return stops.replace(
        a.session_factory,
        visit_id,
        position or 0,
        ids.row_id(option_of(state_of(view), ids.STOP_REPLACE_HOST)) or 0,
        actor=a.person,
        is_coordinator=a.scope,
        now=a.now,
        round_=round_,
    )


@dataclass(frozen=True)
class Form:
    """What a submitted form does, and which block shows each field's error."""

    submit: Callable[[Actor, dict[str, Any]], Change]
    blocks: dict[str, str]


FORMS: dict[str, Form] = {
    ids.DECLINE_VIEW: Form(decline, DECLINE_BLOCKS),
    ids.COUNTER_VIEW: Form(counter, FIELD_BLOCKS),
    ids.MOVE_VIEW: Form(move, FIELD_BLOCKS),
    ids.REDATE_VIEW: Form(redate, FIELD_BLOCKS),
    ids.FORWARD_VIEW: Form(forward, FORWARD_BLOCKS),
    ids.STOP_REPLACE_VIEW: Form(replace_stop, STOP_BLOCKS),
}

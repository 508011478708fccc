"""The decision buttons of visit messages and their small forms (decline reason, other dates,
move). Listeners ack at once, call one service function, and let the notifier re-render."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids, presses
from bot.deps import Deps
from bot.forms import date_of, dates_of, field_errors, option_of, text_of
from bot.views import blocks as b
from bot.views import common
from bot.views.propose import (
    FIELD_BLOCKS,
    counter_modal,
    decline_modal,
    forward_modal,
    move_modal,
    redate_modal,
)
from bot.views.stops import replace_modal
from bot.views.visit import DEADLINE, NUDGE, parse_value
from handlers.context import t_of
from handlers.propose import notifier_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter
from models import PartyState, VisitStatus
from services.common.errors import DomainError, InvalidInput, NotAllowed
from services.visits import (
    lapses,
    replanning,
    state_machine,
    stops,
    visit_card,
    visit_lists,
    visit_reminders,
)
from services.visits.state_machine import AlreadyDecided
from services.visits.visit_card import Change

log = logging.getLogger(__name__)
HAPPENED = "_happened"  # the block id's suffix of the "did it happen?" buttons
DECLINE_BUTTONS = {
    ids.SUPERVISOR_DECLINE: "supervisor",
    ids.HOST_DECLINE: "host",
    ids.FUNDING_DECLINE: "funding",
}
APPROVE_BUTTONS = {ids.SUPERVISOR_APPROVE: "supervisor", ids.FUNDING_APPROVE: "funding"}


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _metadata(view: dict[str, Any]) -> tuple[int, int, str]:
    data = json.loads(view.get("private_metadata") or "{}")
    visit_id, round_ = ids.row_id(data["visit"]), ids.row_id(data["round"])
    if visit_id is None or round_ is None:
        raise ValueError("not a visit")
    return visit_id, round_, str(data["party"])


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def user_of(body: dict[str, Any]) -> str:
        return str((body.get("user") or {}).get("id") or "")

    def tell(client: WebClient, body: dict[str, Any], context: BoltContext, text: str) -> None:
        reply_to_user(client, context.respond, body, common.ephemeral(text))

    def run(
        client: WebClient, body: dict[str, Any], context: BoltContext, step: Callable[[], Change]
    ) -> None:
        """Do one transition; a late or foreign press is told why and changes nothing. A press on
        a reminder's buttons is the same press; the reminder then says it is done (the visit's
        own message is re-rendered as after any press)."""
        try:
            press(client, body, context, step)
        finally:
            if (body.get("view") or {}).get("type") == "home":  # pressed on App Home: it follows
                publish_home = deps.extras.get("publish_home")
                if callable(publish_home):
                    try:
                        publish_home(client, user_of(body), context, 0)
                    except Exception:
                        log.warning("could not republish the Home tab", exc_info=True)

    def press(
        client: WebClient, body: dict[str, Any], context: BoltContext, step: Callable[[], Change]
    ) -> None:
        t = t_of(context)
        try:
            change = step()
        except AlreadyDecided as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            notifier_of(deps).refresh(exc.visit_id)  # the stale message loses its buttons
            return
        except (InvalidInput, ValueError, KeyError):
            tell(client, body, context, t("visits.changed"))
            return
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        block = str(_action(body).get("block_id") or "")
        if block.endswith((NUDGE, HAPPENED, DEADLINE)) and context.respond is not None:
            try:
                done = {HAPPENED: "reminders.happened.thanks", DEADLINE: "reminders.deadline.done"}.get(
                    block[block.rfind("_") :], "reminders.nudge.done"
                )
                context.respond(replace_original=True, text=t(done))
            except Exception:
                log.warning("could not mark the reminder done", exc_info=True)
        show(client, body, context, change)

    def show(client: WebClient, body: dict[str, Any], context: BoltContext, change: Change) -> None:
        """Show the change on Slack; if that cannot be done now (it is saved, and the messages
        follow from the outbox), tell the person who made it."""
        if notifier_of(deps).publish(change):
            return
        try:
            tell(client, body, context, t_of(context)("visits.saved_slack_slow"))
        except Exception:
            log.warning("could not tell the user that the messages will follow", exc_info=True)

    def button_value(body: dict[str, Any]) -> tuple[int, int, int | None]:
        return parse_value(str(_action(body).get("value") or ""))

    # --- approve / accept / pick / cancel: one press, one transition --------------------------
    Transition = Callable[[int, int, int | None, str], Change]  # visit, round, date, actor

    def press_listener(transition: Transition) -> Callable[..., None]:
        """Ack, read the ids the button carries, do the transition, re-render the messages."""

        def on_press(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
            ack()

            def step() -> Change:
                visit_id, round_, date_id = button_value(body)
                return transition(visit_id, round_, date_id, user_of(body))

            run(client, body, context, step)

        return on_press

    def pressed(transition: presses.Transition) -> Transition:
        def do(visit_id: int, round_: int, extra: int | None, user: str) -> Change:
            scope = deps.coordinator_scope(user)
            press = presses.Press(deps.session_factory, visit_id, round_, extra, user, scope, deps.now())
            return transition(press)

        return do

    for action_id, transition in presses.PRESSES.items():
        app.action(action_id)(press_listener(pressed(transition)))
    for prefix, transition in presses.NUMBERED.items():
        app.action(re.compile(rf"^{prefix}_\d+$"))(press_listener(pressed(transition)))

    @app.action(ids.ASK_TIP)
    def on_ask_tip(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """A declined visitor asks the region's coordinators who else could teach the topic."""
        ack()
        t = t_of(context)
        try:
            visit_id, _round, _date = button_value(body)
            asked = visit_reminders.ask_for_tip(
                deps.session_factory, visit_id, actor=user_of(body), now=deps.now()
            )
        except (ValueError, KeyError):
            tell(client, body, context, t("visits.changed"))
            return
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        tell(client, body, context, t("visits.tip.asked" if asked else "visits.tip.nobody"))

    # --- buttons that open a form: check who and which state first ----------------------------
    def open_form(
        client: WebClient,
        body: dict[str, Any],
        context: BoltContext,
        party: str,
        render: Callable[[visit_card.VisitCard], dict[str, Any]],
        ready: Callable[[visit_card.VisitCard], bool] = lambda card: card.chosen_date is not None,
    ) -> None:
        """Open a decision's form once the server agrees that this person may make it now (for
        the visitor's forms: the visit is theirs, and `ready`)."""
        t = t_of(context)
        user = user_of(body)
        try:
            visit_id, round_, _ = button_value(body)
            if party == "visitor":
                card = visit_lists.card_of(deps.session_factory, visit_id)
                if not (user == card.visitor_id or deps.coordinator_scope(user).covers(card.region_id)):
                    raise NotAllowed(state_machine.NOT_YOURS)
                if card.round != round_ or not ready(card):
                    raise AlreadyDecided(card.id, "visits.changed")
            else:
                card = state_machine.check_may_decide(
                    deps.session_factory,
                    visit_id,
                    party=party,
                    actor=user,
                    is_coordinator=deps.coordinator_scope(user),
                    round_=round_,
                    now=deps.now(),
                )
        except AlreadyDecided as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            notifier_of(deps).refresh(exc.visit_id)
            return
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        except (ValueError, KeyError):
            tell(client, body, context, t("visits.changed"))
            return
        client.views_open(trigger_id=body["trigger_id"], view=render(card))

    def decline_listener(party: str) -> Callable[..., None]:
        def on_decline(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
            ack()
            t = t_of(context)
            open_form(client, body, context, party, lambda card: decline_modal(t, card, party))

        return on_decline

    for action_id, party in DECLINE_BUTTONS.items():
        app.action(action_id)(decline_listener(party))

    @app.action(ids.HOST_COUNTER)
    def on_counter(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        open_form(client, body, context, "host", lambda card: counter_modal(t, card))

    @app.action(ids.VISIT_MOVE)
    def on_move(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        open_form(client, body, context, "visitor", lambda card: move_modal(t, card))

    @app.action(ids.HAPPENED_MOVED)
    def on_happened_moved(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """It was moved: the move form, after the day too, while nobody has said it happened."""
        ack()
        t = t_of(context)

        def unanswered(card: visit_card.VisitCard) -> bool:
            return (
                card.status == VisitStatus.CONFIRMED
                and card.happened is None
                and card.chosen_date is not None
            )

        open_form(client, body, context, "visitor", lambda card: move_modal(t, card), ready=unanswered)

    @app.action(ids.VISIT_REDATE)
    def on_redate(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)

        def lapsed(card: visit_card.VisitCard) -> bool:  # or the host has not answered (its deadline)
            waiting = card.asks("host") and card.chosen_date is None
            return waiting or (card.asks("visitor") and card.host_state == PartyState.LAPSED)

        open_form(client, body, context, "visitor", lambda card: redate_modal(t, card), ready=lapsed)

    @app.action(ids.DEADLINE_FORWARD)
    def on_forward(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """The host did not answer in time: the form to send the request on (the visitor only)."""
        ack()
        t = t_of(context)
        try:
            reminder_id = ids.row_id(_action(body).get("value")) or 0
            card, choices = lapses.forward_form(
                deps.session_factory, reminder_id, actor=user_of(body), now=deps.now()
            )
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        client.views_open(trigger_id=body["trigger_id"], view=forward_modal(t, card, choices))

    # --- the forms' submissions ---------------------------------------------------------------
    def submit(
        ack: Ack,
        body: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        step: Callable[[], Change],
        blocks: dict[str, str] | None = None,
    ) -> None:
        """Do a form's transition: a rejected form shows why; a saved one closes, and if its
        messages cannot be updated now the person is told in a direct message (a form has no
        response_url) that they will follow."""
        t = t_of(context)
        try:
            change = step()
        except InvalidInput as exc:
            ack(response_action="errors", errors=field_errors(t, exc, blocks or FIELD_BLOCKS))
            return
        except AlreadyDecided as exc:
            ack(response_action="update", view=_info(t, t(exc.key, **exc.params)))
            notifier_of(deps).refresh(exc.visit_id)
            return
        except DomainError as exc:
            ack(response_action="update", view=_info(t, t(exc.key, **exc.params)))
            return
        ack(response_action="clear")
        show(client, body, context, change)

    @app.view(ids.DECLINE_VIEW)
    def on_decline_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, round_, party = _metadata(view)
            user = user_of(body)
            reason = text_of(view.get("state", {}).get("values", {}), ids.DECLINE_REASON).strip()
            if not reason:
                raise InvalidInput.one("reason", "visits.error.reason")
            return state_machine.decide(
                deps.session_factory,
                visit_id,
                party=party,
                approve=False,
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                round_=round_,
                reason=reason,
            )

        submit(ack, body, client, context, step, {"reason": ids.DECLINE_REASON})

    @app.view(ids.COUNTER_VIEW)
    def on_counter_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, round_, _party = _metadata(view)
            user = user_of(body)
            values = view.get("state", {}).get("values", {})
            return state_machine.counter(
                deps.session_factory,
                visit_id,
                dates_of(values),
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                round_=round_,
                reason=text_of(values, ids.DECLINE_REASON),
                months_ahead=deps.settings.visit_months_ahead,
            )

        submit(ack, body, client, context, step)

    @app.view(ids.MOVE_VIEW)
    def on_move_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, _round, _party = _metadata(view)
            user = user_of(body)
            values = view.get("state", {}).get("values", {})
            return state_machine.move(
                deps.session_factory,
                visit_id,
                date_of(values, f"{ids.PROPOSE_DATE}_1"),
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                km=text_of(values, ids.PROPOSE_KM),
                tickets=text_of(values, ids.PROPOSE_TICKETS),
                accommodation=text_of(values, ids.PROPOSE_ACCOMMODATION),
                months_ahead=deps.settings.visit_months_ahead,
            )

        submit(ack, body, client, context, step)

    @app.view(ids.REDATE_VIEW)
    def on_redate_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, round_, _party = _metadata(view)
            user = user_of(body)
            return replanning.redate(
                deps.session_factory,
                visit_id,
                dates_of(view.get("state", {}).get("values", {})),
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                round_=round_,
                months_ahead=deps.settings.visit_months_ahead,
            )

        submit(ack, body, client, context, step)

    @app.view(ids.FORWARD_VIEW)
    def on_forward_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, round_, _party = _metadata(view)
            user = user_of(body)
            values = view.get("state", {}).get("values", {})
            return replanning.forward(
                deps.session_factory,
                visit_id,
                ids.row_id(option_of(values, ids.FORWARD_HOST)),
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                round_=round_,
                km=text_of(values, ids.PROPOSE_KM),
            )

        submit(ack, body, client, context, step, FORWARD_BLOCKS)

    @app.action(ids.STOP_REPLACE)
    def on_stop_replace(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """A stop declined: the form listing the libraries that offer its topic (the visitor)."""
        ack()
        t = t_of(context)
        try:
            visit_id, _round, position = button_value(body)
            user = user_of(body)
            card = visit_lists.card_of(deps.session_factory, visit_id)
            if user != card.visitor_id or card.stop_at(position or 0) not in card.changeable_stops:
                raise NotAllowed("visits.not_yours" if user != card.visitor_id else "visits.changed")
            choices = stops.replace_choices(deps.session_factory, visit_id, position or 0, now=deps.now())
        except (DomainError, ValueError) as exc:
            tell(client, body, context, t(getattr(exc, "key", "visits.changed")))
            return
        client.views_open(trigger_id=body["trigger_id"], view=replace_modal(t, card, position or 0, choices))

    @app.view(ids.STOP_REPLACE_VIEW)
    def on_stop_replace_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        def step() -> Change:
            visit_id, round_, position = parse_value(str(view.get("private_metadata") or ""))
            user = user_of(body)
            values = view.get("state", {}).get("values", {})
            return stops.replace(
                deps.session_factory,
                visit_id,
                position or 0,
                ids.row_id(option_of(values, ids.STOP_REPLACE_HOST)) or 0,
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
                round_=round_,
            )

        submit(ack, body, client, context, step, {"stop": ids.STOP_REPLACE_HOST})


FORWARD_BLOCKS = {"host": ids.FORWARD_HOST, "km": ids.PROPOSE_KM}


def _info(t: Any, text: str) -> dict[str, Any]:
    return b.modal(ids.ERROR_VIEW, t("visits.title.short"), [b.section(text)], close=t("common.close"))

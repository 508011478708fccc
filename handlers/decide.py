"""The decision buttons of visit messages and their small forms (decline reason, other dates,
move). Listeners ack at once, call one service function, and let the notifier re-render."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids, presses, visit_forms
from bot.deps import Deps
from bot.forms import field_errors
from bot.views import blocks as b
from bot.views import common
from bot.views.visit import DEADLINE, NUDGE, parse_value
from handlers.context import t_of
from handlers.propose import notifier_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter
from services.common.errors import DomainError, InvalidInput
from services.visits import visit_reminders
from services.visits.state_machine import AlreadyDecided
from services.visits.visit_card import Change

log = logging.getLogger(__name__)
HAPPENED = "_happened"  # the block id's suffix of the "did it happen?" buttons
APPROVE_BUTTONS = {ids.SUPERVISOR_APPROVE: "supervisor", ids.FUNDING_APPROVE: "funding"}


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


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
    def on_form_button(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Open a form once the server agrees that this person may use it now
        (bot/visit_forms.py); a late or foreign press is told why."""
        ack()
        t = t_of(context)
        action = _action(body)
        actor = visit_forms.Actor(
            deps.session_factory,
            user_of(body),
            deps.coordinator_scope(user_of(body)),
            deps.now(),
            deps.settings.visit_months_ahead,
        )
        try:
            view = visit_forms.form_of(
                actor, t, str(action.get("action_id") or ""), str(action.get("value") or "")
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
        client.views_open(trigger_id=body["trigger_id"], view=view)

    for action_id in visit_forms.FORM_BUTTONS:
        app.action(action_id)(on_form_button)

    # --- the forms' submissions ---------------------------------------------------------------
    def on_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Do a form's transition: a rejected form shows why; a saved one closes, and if its
        messages cannot be updated now the person is told in a direct message (a form has no
        response_url) that they will follow."""
        t = t_of(context)
        form = visit_forms.FORMS[str(view.get("callback_id") or "")]
        user = user_of(body)
        actor = visit_forms.Actor(
            deps.session_factory,
            user,
            deps.coordinator_scope(user),
            deps.now(),
            deps.settings.visit_months_ahead,
        )
        try:
            change = form.submit(actor, view)
        except InvalidInput as exc:
            ack(response_action="errors", errors=field_errors(t, exc, form.blocks))
            return
        except AlreadyDecided as exc:
            ack(response_action="update", view=_info(t, t(exc.key, **exc.params)))
            notifier_of(deps).refresh(exc.visit_id)
            return
        except DomainError as exc:
            ack(response_action="update", view=_info(t, t(exc.key, **exc.params)))
            return
        except (ValueError, KeyError):
            ack(response_action="update", view=_info(t, t("visits.changed")))
            return
        ack(response_action="clear")
        show(client, body, context, change)

    for callback_id in visit_forms.FORMS:
        app.view(callback_id)(on_submit)


def _info(t: Any, text: str) -> dict[str, Any]:
    return b.modal(ids.ERROR_VIEW, t("visits.title.short"), [b.section(text)], close=t("common.close"))

"""The buttons on reminders: coordinators remind a stuck party again or take the decision over;
the visitor snoozes a write-up nag for a week. Someone else pressing is told it is not theirs."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot import ids
from bot.deps import Deps
from bot.i18n import Translator, translator
from bot.views import common
from bot.views.formatting import day_text
from bot.views.reminders import handover_modal, snoozed_nag
from bot.views.visit import visit_message, visit_name
from handlers.context import a_person, t_of
from handlers.propose import notifier_of
from handlers.replies import reply_to_user, respond_ok
from handlers.router import CommandRouter
from services.common import workdays
from services.common.errors import DomainError, InvalidInput, NotFound
from services.visits import (
    lapses,
    reminder_buttons,
    sent_messages,
    state_machine,
    visit_lists,
    visit_reminders,
)

log = logging.getLogger(__name__)
CLAIMED = {
    ids.REMINDER_AGAIN,
    ids.REMINDER_TAKE_OVER,
    ids.REMINDER_SNOOZE,
    ids.REMINDER_SNOOZE_TO,
    ids.DEADLINE_WAIT,
}


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _reminder_id(body: dict[str, Any]) -> int:
    return ids.row_id(((body.get("actions") or [{}])[0]).get("value")) or 0


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    settings = deps.settings
    visit_reminders.configure(coordinators=settings.coordinator_user_ids, tz=settings.tz)

    def name_of(visit_id: int, t: Translator) -> str:
        try:
            return visit_name(visit_lists.card_of(deps.session_factory, visit_id), t)
        except NotFound:
            return "–"

    def tell(client: WebClient, body: dict[str, Any], context: BoltContext, text: str) -> None:
        reply_to_user(client, context.respond, body, common.ephemeral(text), t_of(context))

    @app.action(ids.REMINDER_AGAIN)
    def on_again(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        user = _user(body)
        try:
            with deps.session_factory.begin() as session:
                stuck, waiting, planned = reminder_buttons.remind_again(
                    session,
                    _reminder_id(body),
                    actor=user,
                    is_coordinator=deps.coordinator_scope(user),
                    now=deps.now(),
                )
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        if not waiting:
            tell(client, body, context, t("reminders.no_longer_waiting", visit=name_of(stuck.visit_id, t)))
            return
        if not planned:
            tell(client, body, context, t("reminders.again_already", visit=name_of(stuck.visit_id, t)))
            return
        people = ", ".join(f"<@{p}>" for p in stuck.deciders)
        tell(
            client, body, context, t("reminders.again_done", people=people, visit=name_of(stuck.visit_id, t))
        )

    @app.action(ids.REMINDER_TAKE_OVER)
    def on_take_over(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        user = _user(body)
        try:
            with deps.session_factory() as session:
                stuck, waiting = reminder_buttons.take_over(
                    session, _reminder_id(body), actor=user, is_coordinator=deps.coordinator_scope(user)
                )
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        if not waiting:
            tell(client, body, context, t("reminders.no_longer_waiting", visit=name_of(stuck.visit_id, t)))
            return
        if stuck.party == "supervisor":  # only a supervisor consents: the coordinator names another
            card = visit_lists.card_of(deps.session_factory, stuck.visit_id)
            view = handover_modal(t, card, stuck.deciders)
            client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        # Coordinators may decide for the host, for funding and pick for the visitor: here is the
        # same decision message the party has, with its buttons.
        card = visit_lists.card_of(deps.session_factory, stuck.visit_id)
        message = visit_message(card, stuck.party, t, today=workdays.local_today(deps.now()))
        try:
            client.chat_postMessage(channel=user, **message)
        except SlackApiError as exc:
            log.warning("take over: could not post the decision: %s", exc.response.get("error"))
            tell(client, body, context, t("reminders.take_over.failed"))
            return
        tell(client, body, context, t("reminders.take_over.sent", visit=name_of(stuck.visit_id, t)))

    @app.view(ids.HANDOVER_VIEW)
    def on_handover(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """The stuck consents go to the supervisor named; the one they were waiting for is told."""
        t = t_of(context)
        user = _user(body)
        values = view.get("state", {}).get("values", {})
        to = str(((values.get(ids.HANDOVER_TO) or {}).get(ids.HANDOVER_TO) or {}).get("selected_user") or "")
        try:
            visit_id = ids.row_id(json.loads(view.get("private_metadata") or "{}").get("visit")) or 0
            if not a_person(deps.directory, to):
                raise InvalidInput.one("to", "visits.handover.nobody")
            change, taken = state_machine.hand_over(
                deps.session_factory,
                visit_id,
                to,
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
            )
        except InvalidInput as exc:
            key, params = next(iter(exc.fields.values()))
            ack(response_action="errors", errors={ids.HANDOVER_TO: t(key, **params)})
            return
        except (DomainError, ValueError, AttributeError) as exc:
            key = exc.key if isinstance(exc, DomainError) else "visits.changed"
            params = exc.params if isinstance(exc, DomainError) else {}
            ack(response_action="errors", errors={ids.HANDOVER_TO: t(key, **params)})
            return
        ack(response_action="clear")
        notifier_of(deps).publish(change)  # the new supervisor gets the decision with its buttons
        with deps.session_factory() as session:
            languages, _known = sent_messages.languages_of(session, taken, settings.default_language)
        for boss in taken:
            told = translator(languages.get(boss))
            text = told(
                "visits.handover.told",
                coordinator=f"<@{user}>",
                to=f"<@{to}>",
                visit=change.card.topic(told.lang),
            )
            try:
                client.chat_postMessage(channel=boss, text=text)
            except SlackApiError as exc:
                log.warning("hand over: could not tell the former supervisor: %s", exc.response.get("error"))
        reply_to_user(client, None, body, common.ephemeral(t("visits.handover.done", to=f"<@{to}>")))

    @app.action(ids.DEADLINE_WAIT)
    def on_wait(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """The visitor waits longer for a party that did not answer in time: a new deadline, and
        the party is reminded now; the choices are replaced by what was done."""
        ack()
        t = t_of(context)

        def wait() -> tuple[date, int]:
            with deps.session_factory.begin() as session:
                by = lapses.wait_longer(session, _reminder_id(body), actor=_user(body), now=deps.now())
                return by, lapses.visit_of(session, _reminder_id(body))

        try:
            try:
                by, visit_id = wait()
            except IntegrityError:  # the same press at once on another replica: its deadline holds
                by, visit_id = wait()
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        text = t("reminders.deadline.waiting", date=day_text(by, t))
        respond = context.respond
        if (
            respond is None
            or not body.get("response_url")
            or not respond_ok(respond, replace_original=True, text=text)
        ):
            tell(client, body, context, text)
        notifier_of(deps).refresh(visit_id)  # the party's message shows its new deadline

    @app.action(ids.REMINDER_SNOOZE)
    def on_snooze(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        snooze(body, client, context, _reminder_id(body), None)

    @app.action(ids.REMINDER_SNOOZE_TO)
    def on_snooze_to(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """ "Remind me on ...": the day picked on the nag (its block id names the reminder)."""
        ack()
        action = (body.get("actions") or [{}])[0]
        block = str(action.get("block_id") or "")
        reminder_id = (
            ids.row_id(block.removeprefix(ids.SNOOZE_BLOCK)) if block.startswith(ids.SNOOZE_BLOCK) else None
        )
        try:
            on = date.fromisoformat(str(action.get("selected_date")))
        except ValueError:
            on = None
        if reminder_id is None:
            tell(client, body, context, t_of(context)("visits.changed"))
            return
        if on is None:  # not a day: the picker's range, nothing changed
            weeks = reminder_buttons.SNOOZE_MAX_WEEKS
            tell(client, body, context, t_of(context)("reminders.snooze_to.range", weeks=weeks))
            return
        snooze(body, client, context, reminder_id, on)

    def snooze(
        body: dict[str, Any], client: WebClient, context: BoltContext, reminder_id: int, on: date | None
    ) -> None:
        t = t_of(context)
        try:
            with deps.session_factory.begin() as session:
                until = reminder_buttons.snooze_writeup(
                    session, reminder_id, actor=_user(body), now=deps.now(), on=on
                )
        except DomainError as exc:
            tell(client, body, context, t(exc.key, **exc.params))
            return
        # Saved: now the nag shows when it comes next, without its snooze button. If Slack
        # fails that update, the person is told in a reply (or a DM); the snooze stays.
        text = t("reminders.snoozed", date=day_text(until.astimezone(settings.tz).date(), t))
        updated = snoozed_nag(body.get("message") or {}, text)
        respond = context.respond
        if updated is None or respond is None or not body.get("response_url"):
            tell(client, body, context, text)
        elif not respond_ok(respond, replace_original=True, **updated):
            reply_to_user(client, None, body, common.ephemeral(text))  # the response_url failed: a DM

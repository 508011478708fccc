"""Thin Teams listeners: read the activity, find who is asking (teams/people.py), call the same
services as the Slack listeners, and answer with the same views rendered as Adaptive Cards.
Services are sync; they run in a thread (`asyncio.to_thread`).

- a message in the 1:1 chat: the command words, as `/vertais` takes them (teams/commands.py);
- `adaptiveCard/action` (Action.Execute): a decision button, pressed through bot/presses.py, then
  every message of the visit re-rendered for everyone (the notifier updates each card); the
  presser gets a short answer, or why the press changed nothing;
- `task/fetch` / `task/submit`: the forms as dialogs (teams/dialogs.py; a visit's own small
  forms: teams/visit_dialogs.py);
- installation: the welcome card (the Home tab's content)."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_teams.api import InvokeResponse
from microsoft_teams.api.activities.install_update import InstalledActivity
from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.activities.invoke.task import TaskFetchInvokeActivity, TaskSubmitInvokeActivity
from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.api.models import (
    AdaptiveCardActionMessageResponse,
    Attachment,
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
)
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard

from bot.i18n import translator
from bot.presses import Press, transition_of
from bot.views.visit import parse_value
from services.common.errors import DomainError, InvalidInput
from services.visits.state_machine import AlreadyDecided
from teams import commands, visit_dialogs
from teams.cards import help_card, text_card
from teams.cards.mrkdwn import mrkdwn_text
from teams.deps import TeamsDeps
from teams.dialogs import Dialog, open_dialog, submit_dialog
from teams.people import Asker, asker_of, language_of

log = logging.getLogger(__name__)
CARD = "application/vnd.microsoft.card.adaptive"


def toast(text: str) -> InvokeResponse[Any]:
    return InvokeResponse(status=200, body=AdaptiveCardActionMessageResponse(value=text))


def dialog_response(shown: Any) -> InvokeResponse[Any]:
    if isinstance(shown, Dialog):
        info = CardTaskModuleTaskInfo(
            title=shown.title,
            card=Attachment(content_type=CARD, content=shown.card),
            width="large",
            height="large",
        )
        return InvokeResponse(
            status=200, body=TaskModuleResponse(task=TaskModuleContinueResponse(value=info))
        )
    return InvokeResponse(
        status=200, body=TaskModuleResponse(task=TaskModuleMessageResponse(value=shown.text))
    )


def press(deps: TeamsDeps, asker: Asker, verb: str, data: dict[str, Any]) -> str:
    """A decision button (sync: run in a thread): what to tell the presser."""
    t = asker.t
    transition = transition_of(verb)
    if transition is None:
        return t("teams.not_yet_button")
    try:
        visit_id, round_, extra = parse_value(str(data.get("value") or ""))
        change = transition(
            Press(
                deps.session_factory,
                visit_id,
                round_,
                extra,
                asker.person,
                deps.scope(asker.person),
                deps.now(),
            )
        )
    except AlreadyDecided as exc:
        if deps.visit_notifier is not None:
            deps.visit_notifier.refresh(exc.visit_id)  # the stale card loses its buttons
        return mrkdwn_text(t(exc.key, **exc.params), commands.names_in(deps, exc.params))
    except (InvalidInput, ValueError, KeyError):
        return t("visits.changed")
    except DomainError as exc:
        return mrkdwn_text(t(exc.key, **exc.params), commands.names_in(deps, exc.params))
    if deps.visit_notifier is not None and not deps.visit_notifier.publish(change):
        return t("visits.saved_slack_slow")
    return t("teams.decision.saved")


Handler = Callable[[Any], Awaitable[Any]]


def guarded(fallback: Callable[[Any, str], Awaitable[Any]]) -> Callable[[Handler], Handler]:
    """A handler that never lets an exception reach the SDK (which answers 500 and logs its text,
    pydantic's with what was typed): the failure is logged by its type and an id, and the person
    is answered in their language with that id (`fallback`)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(ctx: Any) -> Any:
            try:
                return await handler(ctx)
            except Exception as exc:
                error_id = uuid.uuid4().hex[:8]
                log.error("teams %s failed (%s): %s", handler.__name__, error_id, type(exc).__name__)
                return await fallback(ctx, error_id)

        return wrapped

    return decorate


def register(app: App, deps: TeamsDeps) -> None:
    def sorry(ctx: Any, error_id: str) -> str:
        return translator(language_of(ctx.activity, deps.default_language))(
            "error.unexpected", error_id=error_id
        )

    async def say_sorry(ctx: Any, error_id: str) -> None:
        try:
            await ctx.send(text_card(sorry(ctx, error_id), language_of(ctx.activity, deps.default_language)))
        except Exception:
            log.warning("teams: could not say that something failed")

    async def toast_sorry(ctx: Any, error_id: str) -> Any:
        return toast(sorry(ctx, error_id))

    async def dialog_sorry(ctx: Any, error_id: str) -> Any:
        return InvokeResponse(
            status=200, body=TaskModuleResponse(task=TaskModuleMessageResponse(value=sorry(ctx, error_id)))
        )

    @app.on_message
    @guarded(say_sorry)
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        asker = await asker_of(deps, activity)
        text = activity.strip_mentions_text().text if activity.text else ""
        if asker is None:  # a channel or a group chat: the bot works in its 1:1 chat
            await ctx.send(help_card(translator(language_of(activity, deps.default_language))))
            return
        card = await asyncio.to_thread(commands.answer, deps, asker, text or "")
        await ctx.send(AdaptiveCard.model_validate(card))

    @app.on_install_add
    @guarded(say_sorry)
    async def on_install(ctx: ActivityContext[InstalledActivity]) -> None:
        asker = await asker_of(deps, ctx.activity)
        if asker is None:
            await ctx.send(help_card(translator(language_of(ctx.activity, deps.default_language))))
            return
        card = await asyncio.to_thread(commands.home, deps, asker)
        await ctx.send(AdaptiveCard.model_validate(card))

    @app.on_card_action
    @guarded(toast_sorry)
    async def on_card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> Any:
        action = ctx.activity.value.action
        asker = await asker_of(deps, ctx.activity)
        if asker is None:
            return toast(translator(language_of(ctx.activity, deps.default_language))("teams.only_in_chat"))
        data = action.data if isinstance(action.data, dict) else {}
        verb = str(action.verb or data.get("action_id") or "")
        return toast(await asyncio.to_thread(press, deps, asker, verb, data))

    @app.on_dialog_open
    @guarded(dialog_sorry)
    async def on_dialog_open(ctx: ActivityContext[TaskFetchInvokeActivity]) -> Any:
        asker = await asker_of(deps, ctx.activity)
        data = ctx.activity.value.data if isinstance(ctx.activity.value.data, dict) else {}
        if asker is None:
            return dialog_response_text(deps, ctx.activity)
        action_id = str(data.get("action_id") or "")
        opener = visit_dialogs.open_dialog if action_id in visit_dialogs.BUTTONS else open_dialog
        shown = await asyncio.to_thread(opener, deps, asker, action_id, str(data.get("value") or ""))
        return dialog_response(shown)

    @app.on_dialog_submit
    @guarded(dialog_sorry)
    async def on_dialog_submit(ctx: ActivityContext[TaskSubmitInvokeActivity]) -> Any:
        asker = await asker_of(deps, ctx.activity)
        data = ctx.activity.value.data if isinstance(ctx.activity.value.data, dict) else {}
        if asker is None:
            return dialog_response_text(deps, ctx.activity)
        key = f"teams:{ctx.activity.id}" if ctx.activity.id else None
        if str(data.get("callback_id") or "") in visit_dialogs.CALLBACKS:
            shown = await asyncio.to_thread(visit_dialogs.submit_dialog, deps, asker, data)
        else:
            shown = await asyncio.to_thread(submit_dialog, deps, asker, data, once_key=key)
        return dialog_response(shown)


def dialog_response_text(deps: TeamsDeps, activity: Any) -> InvokeResponse[Any]:
    t = translator(language_of(activity, deps.default_language))
    return InvokeResponse(
        status=200, body=TaskModuleResponse(task=TaskModuleMessageResponse(value=t("teams.only_in_chat")))
    )

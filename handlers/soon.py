"""Buttons of features that later issues build: they say so, politely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub, word
from bot.deps import Deps
from bot.views import common
from handlers.context import t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter

BUTTONS = {
    ids.OPEN_PROPOSE: Sub.PROPOSE,
    ids.OPEN_FIND: Sub.FIND,
    ids.OPEN_OFFER: Sub.OFFER,
    ids.OPEN_MINE: Sub.MINE,
    ids.OPEN_IDEAS: Sub.IDEAS,
}


def register(app: App, deps: Deps, router: CommandRouter, claimed: set[str]) -> None:
    command = deps.settings.vertais_command
    for action_id, sub in BUTTONS.items():
        if action_id not in claimed:
            app.action(action_id)(_coming_soon(command, sub))


def _coming_soon(command: str, sub: Sub) -> Callable[..., None]:
    """One listener per button. (Bolt passes None for unknown keyword parameters, so the
    subcommand is bound by this closure, not by a default argument.)"""

    def on_button(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        t = t_of(context)
        reply_to_user(client, respond, body, common.coming_soon(t, command, word(sub, t.lang)), t)

    return on_button

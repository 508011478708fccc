"""`/vertais apua` and the help button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.views.help import help_message
from handlers.context import staff_of, t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter, Invocation


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    command = deps.settings.vertais_command

    def on_help(inv: Invocation) -> None:
        inv.ack(
            help_message(
                inv.t, command=command, staff=inv.staff, coordinator=deps.is_coordinator(inv.user_id)
            )
        )

    router.add(Sub.HELP, on_help)

    @app.action(ids.OPEN_HELP)
    def on_help_button(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        t = t_of(context)
        message = help_message(
            t, command=command, staff=staff_of(context), coordinator=deps.is_coordinator(context.user_id)
        )
        reply_to_user(client, respond, body, message, t)

"""The one slash command, `/vertais <word> ...`: parses the word and hands over to a feature."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.commands import Parsed, Sub, is_my_data, parse, word
from bot.deps import Deps
from bot.i18n import Translator
from bot.views import common
from handlers.context import staff_of, t_of
from services.people.staff import Staff

log = logging.getLogger(__name__)


@dataclass
class Invocation:
    """One `/vertais` call, parsed, with what a feature needs to answer it."""

    sub: Sub
    rest: str
    user_id: str
    channel_id: str | None
    trigger_id: str
    staff: Staff
    t: Translator
    ack: Ack
    respond: Respond
    client: WebClient
    context: BoltContext
    deps: Deps


SubHandler = Callable[[Invocation], None]

# Subcommands that work before the user has chosen a home library.
WITHOUT_HOME_LIBRARY = {Sub.HELP, Sub.SETTINGS, Sub.IDEAS, Sub.REPORT}


class CommandRouter:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.handlers: dict[Sub, SubHandler] = {}
        self.first_time: Callable[[Invocation, str], None] | None = None

    def add(self, sub: Sub, handler: SubHandler) -> None:
        self.handlers[sub] = handler

    def register(self, app: App) -> None:
        app.command(self.deps.settings.vertais_command)(self.on_command)

    def on_command(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        t = t_of(context)
        command = self.deps.settings.vertais_command
        parsed = _parsed(context, body)
        context["subcommand"] = parsed.sub.value if parsed.sub else "unknown"
        if parsed.sub is None:
            suggestion = parsed.suggested_word
            ack(common.did_you_mean(t, command, parsed.word, suggestion))
            return
        invocation = Invocation(
            sub=parsed.sub,
            rest=parsed.rest,
            user_id=body.get("user_id", ""),
            channel_id=body.get("channel_id"),
            trigger_id=body.get("trigger_id", ""),
            staff=staff_of(context),
            t=t,
            ack=ack,
            respond=respond,
            client=client,
            context=context,
            deps=self.deps,
        )
        my_data = parsed.sub is Sub.MINE and is_my_data(parsed.rest)  # one's data needs no library
        if not invocation.staff.has_home_library and parsed.sub not in WITHOUT_HOME_LIBRARY and not my_data:
            if self.first_time is not None:
                self.first_time(invocation, parsed.sub.value)
                return
        handler = self.handlers.get(parsed.sub)
        if handler is None:
            ack(common.coming_soon(t, command, word(parsed.sub, t.lang)))
            return
        handler(invocation)


def _parsed(context: BoltContext, body: dict[str, Any]) -> Parsed:
    """The command's words, parsed once per request (the runner asks before the router runs)."""
    parsed = context.get(PARSED)
    if not isinstance(parsed, Parsed):
        parsed = context[PARSED] = parse(body.get("text"))
    return parsed


PARSED = "vertais_parsed_command"

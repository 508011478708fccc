"""The one slash command, `/vertais <word> ...`: parses the word and hands over to a feature."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, Respond
from slack_sdk import WebClient

from bot.commands import Parsed, Sub, parse
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
        self.inline: set[Sub] = set()
        self.bare_ack: set[Sub] = set()
        # Forms whose submission listener only computes its answer (and hands any Slack call to
        # deps.extras["background"]): run inline too.
        self.inline_views: set[str] = set()

    def add(self, sub: Sub, handler: SubHandler, *, inline: bool = False, acks_first: bool = False) -> None:
        """`inline`: the handler's whole work is its answer (nothing after the ack), so it may
        run on the request thread itself (see `answers_inline`). `acks_first`: the handler's
        first step is a bare `ack()`, so the answer may go before it runs (`acks_first`)."""
        self.handlers[sub] = handler
        if inline:
            self.inline.add(sub)
        if acks_first:
            self.bare_ack.add(sub)

    def answers_inline(self, request: BoltRequest) -> bool:
        """Whether this request's listener does all its work before its ack: every typeahead, an
        unknown word, the subcommands added as inline (for users who need no first-time setup)
        and the forms in `inline_views`. bot.app.SelectiveRunner runs those on the request
        thread."""
        body = request.body or {}
        if body.get("type") == "block_suggestion":
            return True
        if body.get("type") == "view_submission":
            return (body.get("view") or {}).get("callback_id") in self.inline_views
        if body.get("command") != self.deps.settings.vertais_command:
            return False
        parsed = _parsed(request.context, body)
        if parsed.sub is None:
            return True
        if parsed.sub not in self.inline:
            return False
        return self._reaches_handler(request, parsed.sub)

    def acks_first(self, request: BoltRequest) -> bool:
        """Whether this command's handler starts with a bare ack (see bot.app.SelectiveRunner)."""
        body = request.body or {}
        if body.get("command") != self.deps.settings.vertais_command:
            return False
        parsed = _parsed(request.context, body)
        return parsed.sub in self.bare_ack and self._reaches_handler(request, parsed.sub)

    def _reaches_handler(self, request: BoltRequest, sub: Sub) -> bool:
        """The subcommand's own handler runs (not the first-time setup of a new user)."""
        staff = request.context.get("staff")
        return sub in WITHOUT_HOME_LIBRARY or bool(getattr(staff, "has_home_library", False))

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
            suggestion = parsed.suggestion.value if parsed.suggestion else None
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
        if not invocation.staff.has_home_library and parsed.sub not in WITHOUT_HOME_LIBRARY:
            if self.first_time is not None:
                self.first_time(invocation, parsed.sub.value)
                return
        handler = self.handlers.get(parsed.sub)
        if handler is None:
            ack(common.coming_soon(t, command, parsed.sub.value))
            return
        handler(invocation)


def _parsed(context: BoltContext, body: dict[str, Any]) -> Parsed:
    """The command's words, parsed once per request (the runner asks before the router runs)."""
    parsed = context.get(PARSED)
    if not isinstance(parsed, Parsed):
        parsed = context[PARSED] = parse(body.get("text"))
    return parsed


PARSED = "vertais_parsed_command"

"""`/vertais etsi <words>`, the topic buttons of its answers and the App Home's find button."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.views.find import find_message
from handlers.context import staff_of, t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter, Invocation
from services.find import matching

TOPIC_BUTTON = re.compile(rf"^{ids.FIND_TOPIC}_\d+$")


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    command = deps.settings.vertais_command

    def on_find(inv: Invocation) -> None:
        with deps.session_factory() as session:
            result = matching.find(
                session,
                inv.rest,
                lang=inv.t.lang,
                visitor_library_id=inv.staff.home_library_id,
                now=deps.now(),
            )
            message = find_message(
                result, inv.t, command=command, coordinator=deps.is_coordinator(inv.user_id)
            )
        inv.ack(message)

    router.add(Sub.FIND, on_find)

    @app.action(TOPIC_BUTTON)
    def on_topic(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        t = t_of(context)
        me = staff_of(context)
        with deps.session_factory() as session:
            topic_id = ids.row_id(value)
            if topic_id is not None:
                result = matching.find_for_topic(
                    session, topic_id, lang=t.lang, visitor_library_id=me.home_library_id, now=deps.now()
                )
            else:
                result = matching.find(
                    session, "", lang=t.lang, visitor_library_id=me.home_library_id, now=deps.now()
                )
            message = find_message(result, t, command=command, coordinator=deps.is_coordinator(me.user_id))
        reply_to_user(client, respond, body, message)

    @app.action(ids.OPEN_FIND)
    def on_open_find(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        t = t_of(context)
        me = staff_of(context)
        with deps.session_factory() as session:
            result = matching.find(
                session, "", lang=t.lang, visitor_library_id=me.home_library_id, now=deps.now()
            )
            message = find_message(result, t, command=command, coordinator=deps.is_coordinator(me.user_id))
        reply_to_user(client, respond, body, message)

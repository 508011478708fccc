"""`/vertais omat` and the "my visits" button: what waits for my decision and my visits, paged."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub, is_my_data
from bot.deps import Deps
from bot.views.visit_lists import mine_message
from handlers.context import t_of
from handlers.privacy import send_my_data
from handlers.replies import reply_to_user
from handlers.router import CommandRouter, Invocation
from services.common.workdays import local_today
from services.people import substitutes
from services.visits import visit_lists

PAGE_SIZE = 10


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def render(user_id: str, context: BoltContext, page: int) -> dict[str, Any]:
        with deps.session_factory() as session:  # also the decisions of those they stand in for
            away = substitutes.standing_in_for(session, user_id, local_today(deps.now()))
        waiting = visit_lists.waiting_for(
            deps.session_factory, user_id, is_coordinator=deps.coordinator_scope(user_id), also_for=away
        )
        mine = visit_lists.my_visits(deps.session_factory, user_id, page=page, page_size=PAGE_SIZE)
        parts = visit_lists.parts_of(deps.session_factory, user_id, today=local_today(deps.now()))
        return mine_message(waiting, mine, t_of(context), parts=parts)

    def on_subcommand(inv: Invocation) -> None:
        if is_my_data(inv.rest):  # `/vertais omat tiedot`: one's own data (handlers/privacy.py)
            send_my_data(inv)
            return
        inv.ack(render(inv.user_id, inv.context, 0))

    router.add(Sub.MINE, on_subcommand)

    @app.action(ids.OPEN_MINE)
    def on_button(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        reply_to_user(client, context.respond, body, render(body["user"]["id"], context, 0))

    @app.action(re.compile(rf"^{ids.MINE_PAGE}_(prev|next)$"))
    def on_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        page = min(ids.row_id((body.get("actions") or [{}])[0].get("value")) or 0, ids.MAX_PAGE)
        message = render(body["user"]["id"], context, page)
        if context.respond is not None and body.get("response_url"):
            payload = {k: v for k, v in message.items() if k != "response_type"}
            context.respond(replace_original=True, **payload)
        else:
            reply_to_user(client, context.respond, body, message)

"""App Home: published on `app_home_opened`."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.i18n import Translator
from bot.views.home import home_view
from bot.views.visit import visit_list_blocks
from bot.views.writeups import home_blocks as writeup_home_blocks
from handlers import desk
from handlers.context import staff_of, t_of
from handlers.router import CommandRouter
from services.common.workdays import local_today
from services.ideas import writeups
from services.people.staff import Staff
from services.visits import visit_lists

PAGE_SIZE = 10


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") != "home":
            return
        publish(client, event["user"], context, 0)

    def publish(
        client: WebClient,
        user_id: str,
        context: BoltContext | None,
        page: int,
        *,
        t: Translator | None = None,
        me: Staff | None = None,
    ) -> None:
        """(Re)publish a person's Home tab; `t` and `me` override the request's (after a change)."""
        t = t or t_of(context)
        me = me or staff_of(context)
        waiting = visit_lists.waiting_for(
            deps.session_factory, user_id, is_coordinator=deps.coordinator_scope(user_id)
        )
        mine = visit_lists.my_visits(deps.session_factory, user_id, page=page, page_size=PAGE_SIZE)
        parts = visit_lists.parts_of(deps.session_factory, user_id, today=local_today(deps.now()))
        owed = visit_lists.owed_cards(deps.session_factory, waiting)  # their buttons right there
        extra = visit_list_blocks(
            waiting, mine, t, page_action=ids.HOME_PAGE, parts=parts, owed=owed, reader=user_id
        )
        with deps.session_factory() as session:
            extra = writeup_home_blocks(writeups.to_submit_for(session, user_id, deps.now()), t) + extra
        extra = desk.home_blocks(deps, user_id, t) + extra
        view = home_view(t, me, command=deps.settings.vertais_command, extra=extra)
        client.views_publish(user_id=user_id, view=view)

    deps.extras["publish_home"] = publish

    @app.action(re.compile(rf"^{ids.HOME_PAGE}_(prev|next)$"))
    def on_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        page = ids.row_id((body.get("actions") or [{}])[0].get("value")) or 0
        publish(client, body["user"]["id"], context, min(page, ids.MAX_PAGE))

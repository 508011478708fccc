"""App Home: published on `app_home_opened`."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.deps import Deps
from bot.i18n import Translator, translator
from bot.views import common
from bot.views.formatting import day_text
from bot.views.home import away_blocks, away_modal, home_view
from bot.views.visit_lists import visit_list_blocks
from bot.views.writeups import home_blocks as writeup_home_blocks
from handlers import desk
from handlers.context import a_person, staff_of, t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter
from services.common.errors import DomainError, InvalidInput
from services.common.workdays import local_today
from services.ideas import writeups
from services.people import substitutes
from services.people.staff import Staff
from services.visits import sent_messages, substitution, visit_lists

PAGE_SIZE = 10
log = logging.getLogger(__name__)
# The service's field names -> the form's blocks.
AWAY_FIELDS = {"starts_on": ids.AWAY_FROM, "ends_on": ids.AWAY_TO, "substitute": ids.AWAY_SUBSTITUTE}


@dataclass(frozen=True)
class AwayForm:
    starts_on: date | None
    ends_on: date | None
    substitute: str | None


def _away_form(values: dict[str, Any]) -> AwayForm:
    """The away form as Slack sends it (a missing or malformed value is None)."""

    def picked(block: str, key: str) -> Any:
        return ((values.get(block) or {}).get(block) or {}).get(key)

    def day(block: str) -> date | None:
        try:
            return date.fromisoformat(str(picked(block, "selected_date")))
        except ValueError:
            return None

    user = picked(ids.AWAY_SUBSTITUTE, "selected_user")
    return AwayForm(day(ids.AWAY_FROM), day(ids.AWAY_TO), str(user) if user else None)


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
        today = local_today(deps.now())
        with deps.session_factory() as session:
            mine_away, standing_in = substitutes.on_home(session, user_id, today=today)
        waiting = visit_lists.waiting_for(
            deps.session_factory,
            user_id,
            is_coordinator=deps.coordinator_scope(user_id),
            also_for=[a.user_id for a in standing_in if a.on(today)],  # they stand in for them today
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
        extra = extra + away_blocks(t, mine_away, standing_in, today=today)
        view = home_view(t, me, command=deps.settings.vertais_command, extra=extra)
        client.views_publish(user_id=user_id, view=view)

    deps.extras["publish_home"] = publish

    @app.action(ids.AWAY_OPEN)
    def on_away_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        view = away_modal(t_of(context), today=local_today(deps.now()))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(ids.AWAY_VIEW)
    def on_away(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A period away and its substitute: saved (checked on the server), the Home tab shows it,
        and the substitute is told."""
        t = t_of(context)
        user = str(body["user"]["id"])
        form = _away_form(view.get("state", {}).get("values", {}))
        try:
            if form.substitute and not a_person(deps.directory, form.substitute):
                raise InvalidInput.one("substitute", "substitutes.error.nobody")
            away = substitution.set_away(
                deps.session_factory,
                user,
                form.substitute,
                form.starts_on,
                form.ends_on,
                now=deps.now(),
                tz=deps.settings.tz,
            )
        except InvalidInput as exc:
            ack(
                response_action="errors",
                errors={AWAY_FIELDS[name]: t(key, **params) for name, (key, params) in exc.fields.items()},
            )
            return
        ack(response_action="clear")
        publish(client, user, context, 0)
        with deps.session_factory() as session:
            languages, _known = sent_messages.languages_of(
                session, [away.substitute_id], deps.settings.default_language
            )
        told = translator(languages.get(away.substitute_id))
        text = told(
            "substitutes.told",
            user=f"<@{user}>",
            start=day_text(away.starts_on, told),
            end=day_text(away.ends_on, told),
        )
        try:
            client.chat_postMessage(channel=away.substitute_id, text=text)
        except SlackApiError as exc:
            log.warning("away: could not tell the substitute: %s", exc.response.get("error"))

    @app.action(ids.AWAY_REMOVE)
    def on_away_remove(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        user = str(body["user"]["id"])
        period = ids.row_id((body.get("actions") or [{}])[0].get("value")) or 0
        try:
            substitution.remove(deps.session_factory, user, period, now=deps.now(), tz=deps.settings.tz)
        except DomainError as exc:
            reply_to_user(client, context.respond, body, common.ephemeral(t(exc.key, **exc.params)), t)
            return
        publish(client, user, context, 0)

    @app.action(re.compile(rf"^{ids.HOME_PAGE}_(prev|next)$"))
    def on_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        page = ids.row_id((body.get("actions") or [{}])[0].get("value")) or 0
        publish(client, body["user"]["id"], context, min(page, ids.MAX_PAGE))

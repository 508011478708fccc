"""`/vertais ehdota [words]`, the propose buttons (App Home, `etsi` results, next hosts after a
decline), the host picker's options, and the proposal's submission."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.forms import field_errors, int_of, option_of, parse_proposal, state_of
from bot.views import common
from bot.views.propose import (
    FIELD_BLOCKS,
    host_options,
    proposal_sent,
    propose_modal,
    stop_options,
    with_colleagues,
    with_length,
)
from handlers.context import a_person, staff_of, t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter, Invocation
from services.common import submissions
from services.common.errors import InvalidInput
from services.common.ports import VisitNotifier
from services.visits import proposing
from services.visits.visit_card import HostChoice

log = logging.getLogger(__name__)

MAX_QUERY = 100


def notifier_of(deps: Deps) -> VisitNotifier:
    notifier = deps.extras.get("visit_notifier")
    assert notifier is not None, "build_app puts the visit notifier in deps.extras"
    return notifier  # type: ignore[return-value]


def rerender(client: WebClient, view: dict[str, Any], shown: dict[str, Any]) -> None:
    """Show the open proposal form anew (Slack keeps what was typed in the blocks that stay)."""
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=shown)
    except SlackApiError as exc:  # the form changed meanwhile (hash_conflict): the newer stands
        log.info("proposal form not re-rendered: %s", exc.response.get("error"))


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def open_form(
        client: WebClient,
        trigger_id: str,
        context: BoltContext,
        *,
        words: str = "",
        topic_id: int | None = None,
        host_id: int | None = None,
    ) -> None:
        t = t_of(context)
        me = staff_of(context)
        topics = proposing.active_topics(deps.session_factory)
        topic = next((tp for tp in topics if tp.id == topic_id), None) or proposing.guess_topic(topics, words)
        host: HostChoice | None = None
        if host_id is not None:
            host = next(
                (
                    c
                    for c in proposing.host_choices(
                        deps.session_factory,
                        visitor_library_id=me.home_library_id,
                        topic_id=topic.id if topic else None,
                        limit=10_000,
                    )
                    if c.library_id == host_id
                ),
                None,
            )
        client.views_open(trigger_id=trigger_id, view=propose_modal(t, topics=topics, topic=topic, host=host))

    def on_subcommand(inv: Invocation) -> None:
        inv.ack()
        open_form(inv.client, inv.trigger_id, inv.context, words=inv.rest)

    router.add(Sub.PROPOSE, on_subcommand)

    @app.action(ids.OPEN_PROPOSE)
    def on_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        if not staff_of(context).has_home_library:
            reply_to_user(
                client, context.respond, body, common.ephemeral(t_of(context)("settings.first_time"))
            )
            return
        open_form(client, body["trigger_id"], context)

    @app.action(ids.PROPOSE_HOST)
    def on_propose_host(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        try:
            value = json.loads((body.get("actions") or [{}])[0].get("value") or "{}")
            host_id, topic_id = ids.row_id(value.get("library")), ids.row_id(value.get("topic"))
        except (TypeError, ValueError, AttributeError):
            host_id, topic_id = None, None
        if not staff_of(context).has_home_library:
            reply_to_user(
                client, context.respond, body, common.ephemeral(t_of(context)("settings.first_time"))
            )
            return
        open_form(client, body["trigger_id"], context, topic_id=topic_id, host_id=host_id)

    @app.options(ids.PROPOSE_HOST_SELECT)
    def on_host_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        me = staff_of(context)
        topic_id = int_of(option_of(state_of(body.get("view") or {}), ids.PROPOSE_TOPIC))
        choices = proposing.host_choices(
            deps.session_factory,
            visitor_library_id=me.home_library_id,
            topic_id=topic_id,
            query=query,
            now=deps.now(),
        )
        ack(host_options(choices, t_of(context)))

    @app.options(ids.PROPOSE_STOPS)
    def on_stop_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        choices = proposing.stop_choices(
            deps.session_factory, visitor_library_id=staff_of(context).home_library_id, query=query
        )
        ack(stop_options(choices, t_of(context)))

    @app.action(ids.PROPOSE_TOPIC)
    def on_topic_changed(ack: Ack) -> None:
        ack()  # the static select inside an input block may still send block_actions

    @app.action(ids.PROPOSE_LENGTH)
    def on_length_changed(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """A new length re-renders the form: the night's price is asked of a two-day visit only."""
        ack()
        view = body.get("view") or {}
        length = str(((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value") or "")
        if not view.get("id"):
            return
        rerender(client, view, with_length(view, t_of(context), length))

    @app.action(ids.PROPOSE_COLLEAGUES)
    def on_colleagues_changed(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """Chosen colleagues get a supervisor field each (the visitor's supervisor to start with)."""
        ack()
        view = body.get("view") or {}
        chosen = (body.get("actions") or [{}])[0].get("selected_users") or []
        if not view.get("id"):
            return
        t = t_of(context)
        colleagues = [
            (str(u), _name(str(u), n)) for n, u in enumerate(chosen[:5], start=1) if ids.is_user_id(u)
        ]
        default = ((state_of(view).get(ids.PROPOSE_SUPERVISOR) or {}).get(ids.PROPOSE_SUPERVISOR) or {}).get(
            "selected_user"
        )
        rerender(client, view, with_colleagues(view, t, colleagues, str(default) if default else None))

    def _name(user: str, n: int) -> str:
        """A colleague's name for a field's label (labels show no mentions); their number if
        Slack cannot say."""
        try:
            info = deps.directory.user_info(user) if deps.directory is not None else None
        except (SlackApiError, OSError):
            info = None
        return (info.display_name if info and info.display_name else None) or f"#{n}"

    @app.view(ids.PROPOSE_VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        t = t_of(context)
        me = staff_of(context)
        now = deps.now()
        view_id = view.get("id")
        form = parse_proposal(view)
        unknown = form.supervisor_id is not None and not a_person(deps.directory, form.supervisor_id)
        if unknown:  # a tampered id, a bot or a deactivated account: asked of nobody, said inline
            form = dataclasses.replace(form, supervisor_id=None)
        named = [*form.colleagues, *(boss for boss in form.colleague_supervisors.values() if boss)]
        if named:  # the same for the colleagues and their supervisors (at most five of each)
            nobody = frozenset(u for u in dict.fromkeys(named[:10]) if not a_person(deps.directory, u))
            form = dataclasses.replace(form, unknown_people=nobody)
        try:
            change = proposing.propose(
                # the view's id saved with the visit: a second delivery of it proposes nothing
                submissions.once(deps.session_factory, view_id and f"{ids.PROPOSE_VIEW}:{view_id}", now),
                form,
                visitor_id=body["user"]["id"],
                home_library_id=me.home_library_id,
                now=now,
                months_ahead=deps.settings.visit_months_ahead,
            )
        except InvalidInput as exc:
            errors = field_errors(t, exc, FIELD_BLOCKS)
            if unknown:
                errors[FIELD_BLOCKS["supervisor"]] = t("visits.error.supervisor_unknown")
            ack(response_action="errors", errors=errors)
            return
        except submissions.AlreadySubmitted:
            ack()  # proposed already, and everyone was asked then
            return
        ack(response_action="update", view=proposal_sent(t, change.card))
        notifier_of(deps).publish(change)

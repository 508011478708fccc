"""Coordinators and the topic catalogue: answer topic suggestions (approve into a category,
merge into a topic, reject) from their DM, and add / rename / retire topics in a modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.i18n import translator
from bot.views import blocks as b
from bot.views import common
from bot.views.offer import topic_options
from bot.views.topics import suggestion_id_of, suggestion_message, topic_saved, topics_modal
from handlers.context import t_of
from handlers.replies import reply_to_user
from handlers.router import CommandRouter
from models import SuggestionStatus
from services.catalogue import topics
from services.common.errors import Conflict, InvalidInput, NotAllowed

MAX_QUERY = 100
log = logging.getLogger(__name__)


def _action(body: dict[str, Any]) -> dict[str, Any]:
    return (body.get("actions") or [{}])[0]


def _pressed_in(body: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, ts) of the message whose button was pressed, as Slack's signed payload says."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not channel or not ts or container.get("is_ephemeral"):
        return None
    return str(channel), str(ts)


def _int(text: object) -> int | None:
    return ids.row_id(text)


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    def decide(
        client: WebClient, respond: Respond, body: dict[str, Any], context: BoltContext, do: Any
    ) -> None:
        """Run one decision, tell a late clicker who decided, and re-render every copy of the DM."""
        user_id = body["user"]["id"]
        suggestion_id = _int(_action(body).get("value")) or suggestion_id_of(_action(body).get("block_id"))
        t = t_of(context)
        if suggestion_id is None:
            return
        try:
            do(suggestion_id, user_id)
        except NotAllowed as exc:
            reply_to_user(client, respond, body, common.ephemeral(t(exc.key, **exc.params)))
            return
        except Conflict as exc:  # decided meanwhile: say by whom, and show the decision
            reply_to_user(client, respond, body, common.ephemeral(t(exc.key, **exc.params)))
            refresh(client, body, suggestion_id)
            return
        info = refresh(client, body, suggestion_id)
        tell_suggester(client, info)

    def refresh(client: WebClient, body: dict[str, Any], suggestion_id: int) -> topics.SuggestionInfo:
        t = translator(deps.settings.default_language)
        with deps.session_factory() as session:
            info = topics.suggestion_info(session, suggestion_id, t.lang)
        message = suggestion_message(info, t)
        places = set(info.messages)
        pressed = _pressed_in(body)
        if pressed is not None:
            places.add(pressed)
        for channel, ts in sorted(places):
            try:
                client.chat_update(channel=channel, ts=ts, **message)
            except Exception:
                log.warning("could not update a topic suggestion message", exc_info=True)
        return info

    def tell_suggester(client: WebClient, info: topics.SuggestionInfo) -> None:
        if info.status == SuggestionStatus.PENDING:
            return
        t = translator(deps.settings.default_language)
        key = f"topics.suggester.{info.status.value}"
        try:
            text = t(key, text=b.escape(info.text), topic=b.escape(info.topic_name or ""))
            client.chat_postMessage(channel=info.suggested_by, **b.message(text, [b.section(text)]))
        except Exception:
            log.warning("could not tell the suggester about the decision", exc_info=True)

    @app.action(ids.SUGGESTION_APPROVE)
    def on_approve(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        value = str((_action(body).get("selected_option") or {}).get("value") or "")
        suggestion_text, _, category_text = value.partition(":")
        suggestion, category = ids.row_id(suggestion_text), ids.row_id(category_text)
        if suggestion is None or category is None:
            return

        def do(suggestion_id: int, user_id: str) -> None:
            topics.approve_suggestion(
                deps.session_factory,
                suggestion,
                category,
                actor=user_id,
                coordinator=deps.coordinator_scope(user_id),
                configured=deps.settings.coordinator_user_ids,
                pressed_in=_pressed_in(body),
                now=deps.now(),
            )

        body["actions"][0]["value"] = suggestion
        decide(client, respond, body, context, do)

    @app.action(ids.SUGGESTION_MERGE)
    def on_merge(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        topic_id = _int((_action(body).get("selected_option") or {}).get("value"))
        if topic_id is None:
            return

        def do(suggestion_id: int, user_id: str) -> None:
            topics.merge_suggestion(
                deps.session_factory,
                suggestion_id,
                topic_id,
                actor=user_id,
                coordinator=deps.coordinator_scope(user_id),
                configured=deps.settings.coordinator_user_ids,
                pressed_in=_pressed_in(body),
                now=deps.now(),
            )

        decide(client, respond, body, context, do)

    @app.action(ids.SUGGESTION_REJECT)
    def on_reject(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()

        def do(suggestion_id: int, user_id: str) -> None:
            topics.reject_suggestion(
                deps.session_factory,
                suggestion_id,
                actor=user_id,
                coordinator=deps.coordinator_scope(user_id),
                configured=deps.settings.coordinator_user_ids,
                pressed_in=_pressed_in(body),
                now=deps.now(),
            )

        decide(client, respond, body, context, do)

    @app.options(ids.SUGGESTION_MERGE)
    def on_merge_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        with deps.session_factory() as session:
            ack(topic_options(topics.search_topics(session, query, t_of(context).lang)))

    @app.action(ids.OPEN_TOPICS)
    def on_open(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        t = t_of(context)
        if not deps.is_coordinator(body["user"]["id"]):
            reply_to_user(client, respond, body, common.ephemeral(t("error.not_allowed")))
            return
        with deps.session_factory() as session:
            view = topics_modal(topics.categories(session, t.lang), t)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.options(ids.TOPIC_PICK)
    def on_pick_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        t = t_of(context)
        with deps.session_factory() as session:
            groups = topics.search_topics(session, query, t.lang, include_retired=True)
        marked = [
            topics.CategoryChoices(
                g.id,
                g.name,
                tuple(
                    topics.TopicChoice(c.id, t("topics.retired_name", name=c.name) if c.retired else c.name)
                    for c in g.topics
                ),
            )
            for g in groups
        ]
        ack(topic_options(marked))

    @app.view(ids.TOPICS_VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
        t = t_of(context)
        values = view.get("state", {}).get("values", {})

        def get(block: str) -> dict[str, Any]:
            return (values.get(block, {}) or {}).get(block) or {}

        retired = any(
            o.get("value") == "retired" for o in get(ids.TOPIC_STATUS).get("selected_options") or []
        )
        data = topics.TopicInput(
            topic_id=_int((get(ids.TOPIC_PICK).get("selected_option") or {}).get("value")),
            category_id=_int((get(ids.TOPIC_CATEGORY).get("selected_option") or {}).get("value")),
            name_fi=str(get(ids.TOPIC_NAME_FI).get("value") or ""),
            name_sv=str(get(ids.TOPIC_NAME_SV).get("value") or ""),
            name_en=str(get(ids.TOPIC_NAME_EN).get("value") or ""),
            synonyms=str(get(ids.TOPIC_SYNONYMS).get("value") or ""),
            retired=retired,
        )
        user_id = body["user"]["id"]
        try:
            topic_id = topics.save_topic(
                deps.session_factory,
                data,
                actor=user_id,
                coordinator=deps.is_coordinator(user_id),
                now=deps.now(),
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors={f: t(k, **p) for f, (k, p) in exc.fields.items()})
            return
        with deps.session_factory() as session:
            topic = topics.topic_details(session, topic_id)
            name = topic.name(t.lang) if topic else ""
        ack(response_action="update", view=topic_saved(t, name, retired))

"""Write-ups: "write it up" (nag, status card, App Home), the modal with its draft on close, the
idea-bank post and its edits, coordinators' hide / publish, `/vertais ideat` with paging, and the
coordinator's export file (`ideat vienti [since] [md|html]`)."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.commands import Sub
from bot.deps import Deps
from bot.forms import field_value
from bot.forms import parse_writeup as parse_form
from bot.i18n import Translator
from bot.views import common
from bot.views import writeups as views
from bot.writeup_publisher import SlackWriteUpPublisher
from handlers.context import staff_of, t_of
from handlers.replies import SLACK_FAILURES, reply_to_user, respond_ok
from handlers.router import CommandRouter, Invocation
from services.common.errors import InvalidInput, NotAllowed
from services.ideas import idea_search, writeups
from services.people import coordinators

log = logging.getLogger(__name__)
EXPORT_WORDS = {"vienti", "export", "export-fil", "exportera"}
LINK_BUTTONS = re.compile(rf"^({ids.IDEAS_ASK}|{ids.IDEAS_LINK})_\d+$")


def _metadata(view: dict[str, Any], key: str) -> int | None:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    value = loaded.get(key) if isinstance(loaded, dict) else None
    return value if isinstance(value, int) else None


def _errors(exc: InvalidInput, t: Translator) -> dict[str, str]:
    return {views.BLOCKS.get(name, name): t(key, **params) for name, (key, params) in exc.fields.items()}


def _action_value(body: dict[str, Any]) -> str:
    return str((body.get("actions") or [{}])[0].get("value") or "")


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    command = deps.settings.vertais_command

    def publisher() -> SlackWriteUpPublisher:
        found = deps.extras.get("writeup_publisher")
        assert isinstance(found, SlackWriteUpPublisher), "build_app puts the publisher in deps.extras"
        return found

    # --- writing ---------------------------------------------------------------------------
    @app.action(ids.WRITEUP_OPEN)
    def on_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        value = _action_value(body)
        if not value.isdigit():
            return
        t = t_of(context)
        with deps.session_factory() as session:
            form = writeups.open_form(session, int(value), body["user"]["id"], deps.now())
        client.views_open(trigger_id=body["trigger_id"], view=views.writeup_modal(form, t))

    @app.view_closed(ids.WRITEUP_VIEW)
    def on_closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        visit_id = _metadata(view, "visit")
        if visit_id is None:
            return
        writeups.save_draft(
            deps.session_factory, visit_id, parse_form(view), actor=body["user"]["id"], now=deps.now()
        )

    @app.view(ids.WRITEUP_VIEW)
    def on_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        t = t_of(context)
        visit_id = _metadata(view, "visit")
        if visit_id is None:
            ack()
            return
        try:
            result = writeups.submit(
                deps.session_factory, visit_id, parse_form(view), actor=body["user"]["id"], now=deps.now()
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=_errors(exc, t))
            return
        # Ack first (3 seconds): the Slack calls below may be slow; what fails is retried later.
        ack(response_action="update", view=views.saved_view(result.writeup, t))
        publisher().show(result)

    # --- coordinators ----------------------------------------------------------------------
    @app.action(ids.WRITEUP_HIDE)
    def on_hide(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        value = _action_value(body)
        user_id = body["user"]["id"]
        if not value.isdigit() or not deps.is_coordinator(user_id):
            raise NotAllowed()
        with deps.session_factory() as session:
            w = writeups.get(session, int(value))
        coordinators.require_region(deps.coordinator_scope(user_id), w.region_id)
        client.views_open(trigger_id=body["trigger_id"], view=views.hide_modal(w.id, w.title, t_of(context)))

    @app.view(ids.WRITEUP_HIDE_VIEW)
    def on_hide_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        t = t_of(context)
        writeup_id = _metadata(view, "writeup")
        user_id = body["user"]["id"]
        reason = str(
            field_value((view.get("state") or {}).get("values") or {}, ids.WRITEUP_HIDE_REASON).get("value")
            or ""
        )
        if writeup_id is None:
            ack()
            return
        try:
            result = writeups.hide(
                deps.session_factory,
                writeup_id,
                reason,
                actor=user_id,
                coordinator=deps.coordinator_scope(user_id),
                now=deps.now(),
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=_errors(exc, t))
            return
        ack()
        if not publisher().show(result):  # hidden; the post and the author's notice follow
            try:
                reply_to_user(client, None, body, common.ephemeral(t("writeups.saved_slack_slow")), t)
            except Exception:
                log.warning("could not tell the coordinator that the rest will follow", exc_info=True)

    @app.action(ids.WRITEUP_PUBLISH_FOR)
    def on_publish_for(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        value = _action_value(body)
        user_id = body["user"]["id"]
        if not value.isdigit():
            return
        result = writeups.publish_for_author(
            deps.session_factory,
            int(value),
            actor=user_id,
            coordinator=deps.coordinator_scope(user_id),
            now=deps.now(),
        )
        shown = publisher().show(result)
        t = t_of(context)
        text = t("writeups.published_for", title=views.inline(result.writeup.title))
        if not shown:  # published; the post and the author's notice follow
            text += "\n" + t("writeups.saved_slack_slow")
        reply_to_user(client, respond, body, common.ephemeral(text), t)

    # --- finding ---------------------------------------------------------------------------
    def answer(me_id: str, t: Translator, query: str, offset: int = 0) -> dict[str, Any]:
        with deps.session_factory() as session:
            result = idea_search.search(session, query, offset=offset)
        # A coordinator may hide the write-ups of their own region's visits.
        return views.ideas_message(result, t, command=command, coordinator=deps.coordinator_scope(me_id))

    def on_ideas(inv: Invocation) -> None:
        first, _, rest = inv.rest.partition(" ")
        if first.lower() in EXPORT_WORDS:
            export_in_slack(inv, rest)
            return
        inv.ack(answer(inv.user_id, inv.t, inv.rest))

    router.add(Sub.IDEAS, on_ideas)

    @app.action(ids.OPEN_IDEAS)
    def on_open_ideas(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        t = t_of(context)
        reply_to_user(client, respond, body, answer(staff_of(context).user_id, t, ""), t)

    @app.action(ids.IDEAS_MORE)
    def on_more(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        ack()
        try:
            loaded = json.loads(_action_value(body))
        except ValueError:
            loaded = {}
        loaded = loaded if isinstance(loaded, dict) else {}
        offset = loaded.get("o")
        offset = offset if isinstance(offset, int) else 0
        t = t_of(context)
        message = answer(body["user"]["id"], t, str(loaded.get("q") or ""), offset)
        reply_to_user(client, respond, body, message, t)

    @app.action(LINK_BUTTONS)
    def on_link(ack: Ack) -> None:
        ack()  # link buttons open their URL in Slack; the press itself needs only an ack

    # --- the newsletter file ---------------------------------------------------------------
    def export_in_slack(inv: Invocation, rest: str) -> None:
        t = inv.t
        scope = deps.coordinator_scope(inv.user_id)  # a region's coordinator exports their region's
        if not scope:
            inv.ack(common.ephemeral(t("writeups.export.not_allowed")))
            return
        since = deps.now().date() - timedelta(days=31)
        fmt = "md"
        for word in rest.split():
            if word.lower() in ("md", "html"):
                fmt = word.lower()
                continue
            try:
                since = date.fromisoformat(word)
            except ValueError:
                inv.ack(common.ephemeral(t("writeups.export.usage", command=command)))
                return
        with deps.session_factory() as session:
            items = idea_search.for_export(session, since, coordinator=scope)
        content = (views.export_html if fmt == "html" else views.export_markdown)(items, t, since)
        inv.ack(views.export_ack(t, len(items)))
        title = t("writeups.export.title", since=since.isoformat())
        dm: Any = None
        try:
            # The DM's channel id comes from a post to the user id (no im:write scope needed).
            dm = inv.client.chat_postMessage(channel=inv.user_id, text=title)
            inv.client.files_upload_v2(
                channel=str(dm["channel"]),
                content=content,
                filename=f"idea-bank-{since.isoformat()}.{fmt}",
                title=title,
            )
        except SLACK_FAILURES as exc:
            log.warning("could not send the write-ups export: %s", type(exc).__name__)
            failed = common.ephemeral(t("writeups.export.failed"))
            if dm is not None and _replaced(inv.client, dm, failed):
                return  # the file's title, posted before the file failed, now says so
            if not respond_ok(inv.respond, **failed):
                log.warning("could not tell %s that the export failed", inv.user_id)


def _replaced(client: WebClient, posted: Any, message: dict[str, Any]) -> bool:
    """Turn a posted message into `message`; False if Slack failed."""
    payload = {k: v for k, v in message.items() if k != "response_type"}
    try:
        client.chat_update(channel=str(posted["channel"]), ts=str(posted["ts"]), **payload)
    except SLACK_FAILURES:
        return False
    return True


def _replace(w: writeups.WriteUpView, **changes: Any) -> writeups.WriteUpView:
    from dataclasses import replace

    return replace(w, **changes)

"""My data: `/vertais omat tiedot` DMs the person their export as a JSON file; from that DM they
may ask to be forgotten, and a coordinator of their region confirms (services.admin.
forget_requests). Logs name no file content, no text typed and no response_url."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.i18n import translator
from bot.views import privacy as views
from bot.views.common import ephemeral
from handlers.context import t_of
from handlers.replies import SLACK_FAILURES, reply_to_user, respond_ok
from handlers.router import CommandRouter, Invocation
from services.admin import forget_requests, personal_data
from services.common.errors import DomainError
from services.visits import sent_messages

log = logging.getLogger(__name__)


def send_my_data(inv: Invocation) -> None:
    """`/vertais omat tiedot` (handlers/mine.py hands it here): ack at once, then the export as a
    file in a DM."""
    deps, settings = inv.deps, inv.deps.settings
    inv.ack(views.export_sending(inv.t))
    now = deps.now()
    data = personal_data.own_export(deps.session_factory, inv.user_id, now=now)
    rows = sum(len(found) for columns in data["tables"].values() for found in columns.values())
    day = now.astimezone(settings.tz).date()
    try:
        # The DM's channel id comes from a post to the user id (no im:write scope needed).
        dm = inv.client.chat_postMessage(channel=inv.user_id, **views.export_message(inv.t, rows))
        inv.client.files_upload_v2(
            channel=str(dm["channel"]),
            content=json.dumps(data, ensure_ascii=False, indent=2),
            filename=views.export_filename(day),
            title=inv.t("privacy.export.title"),
        )
    except SLACK_FAILURES as exc:
        log.warning("could not send a person's data export: %s", type(exc).__name__)
        if not respond_ok(inv.respond, **views.export_failed(inv.t)):
            log.warning("could not tell %s that the export failed", inv.user_id)


def register(app: App, deps: Deps, router: CommandRouter) -> None:
    settings = deps.settings

    def languages(users: list[str]) -> dict[str, str]:
        with deps.session_factory() as session:
            found, _known = sent_messages.languages_of(session, users, settings.default_language)
        return found

    @app.action(ids.PRIVACY_FORGET_ASK)
    def on_ask(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        user = str((body.get("user") or {}).get("id") or "")
        asked = forget_requests.ask(
            deps.session_factory,
            user,
            lang=t.lang,
            now=deps.now(),
            default_region_key=settings.default_region,
            configured=tuple(settings.coordinator_user_ids),
        )
        reached = asked.posted
        if not asked.posted:  # a new request, or one whose messages never went: send them now
            posted: list[dict[str, str]] = []
            lang = languages(list(asked.coordinators))
            for coordinator in asked.coordinators:
                message = views.coordinator_request(translator(lang.get(coordinator)), user, asked.request_id)
                try:
                    sent = client.chat_postMessage(channel=coordinator, **message)
                except SLACK_FAILURES as exc:
                    log.warning(
                        "forget request %s: a coordinator not reached: %s",
                        asked.request_id,
                        type(exc).__name__,
                    )
                    continue
                ref = {
                    "channel": str(sent["channel"]),
                    "ts": str(sent["ts"]),
                    "lang": lang.get(coordinator, ""),
                }
                posted.append(ref)
            forget_requests.remember_posted(deps.session_factory, asked.request_id, posted)
            reached = bool(posted)
        answer = views.asked(t, new=asked.new, anyone=bool(asked.coordinators), reached=reached)
        reply_to_user(client, context.respond, body, answer, t)

    @app.action(ids.PRIVACY_FORGET_CONFIRM)
    def on_confirm(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        t = t_of(context)
        user = str((body.get("user") or {}).get("id") or "")
        request_id = ids.row_id(((body.get("actions") or [{}])[0]).get("value")) or 0
        try:
            done = forget_requests.confirm(
                deps.session_factory,
                request_id,
                actor=user,
                is_coordinator=deps.coordinator_scope(user),
                now=deps.now(),
            )
        except DomainError as exc:
            reply_to_user(client, context.respond, body, ephemeral(t(exc.key, **exc.params)), t)
            return
        day = done.done_at.astimezone(settings.tz).date()
        if not done.erased_now:
            reply_to_user(client, context.respond, body, views.already_done(t, done.done_by, day), t)
            return
        told = False
        if done.requester:  # their id, in memory only: the database no longer holds it
            try:
                client.chat_postMessage(channel=done.requester, **views.forgotten(translator(done.lang)))
                told = True
            except SLACK_FAILURES as exc:
                log.warning("forget request %s: the person not told: %s", done.request_id, type(exc).__name__)
        for ref in done.posted:  # each coordinator's message, in their language
            finished = views.coordinator_done(
                translator(ref.get("lang") or None), done.done_by, day, told=told
            )
            try:
                client.chat_update(channel=ref["channel"], ts=ref["ts"], **finished)
            except SLACK_FAILURES as exc:
                log.warning(
                    "forget request %s: a message not updated: %s", done.request_id, type(exc).__name__
                )

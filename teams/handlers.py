"""Thin Teams listeners: read the activity, remember where the person is, answer from the
catalogues in the activity's language. Services are sync; they run in a thread (`to_thread`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api.activities.install_update import InstalledActivity
from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext, App

from bot.commands import Sub, parse, word
from bot.i18n import negotiate, translator
from services.people import chat_accounts
from teams.cards import help_card, text_card
from teams.deps import TeamsDeps

log = logging.getLogger(__name__)
PLATFORM = "teams"


def language_of(activity: Any, default: str) -> str:
    """fi/sv/en from the activity's locale, else its clientInfo entity's, else the default."""
    locale = getattr(activity, "locale", None)
    if not locale:
        for entity in getattr(activity, "entities", None) or []:
            found = getattr(entity, "locale", None)
            if getattr(entity, "type", None) == "clientInfo" and isinstance(found, str):
                locale = found
                break
    return negotiate(locale, default)


def reference_of(activity: Any) -> chat_accounts.ChatReference | None:
    """Where the bot can reach the sender again: a 1:1 chat's reference (None elsewhere)."""
    sender = activity.from_
    conversation = activity.conversation
    if sender is None or conversation is None or not sender.id:
        return None
    if getattr(conversation, "conversation_type", None) != "personal":
        return None
    tenant = getattr(conversation, "tenant_id", None)
    return chat_accounts.ChatReference(
        platform=PLATFORM,
        user_id=sender.id,
        directory_id=getattr(sender, "aad_object_id", None),
        tenant_id=tenant,
        conversation_id=conversation.id,
        service_url=activity.service_url or "",
        display_name=getattr(sender, "name", None),
    )


async def remember(deps: TeamsDeps, activity: Any) -> None:
    reference = reference_of(activity)
    if reference is not None and reference.service_url:
        await asyncio.to_thread(chat_accounts.remember, deps.session_factory, reference, now=deps.clock())


def register(app: App, deps: TeamsDeps) -> None:
    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        await remember(deps, activity)
        t = translator(language_of(activity, deps.default_language))
        text = activity.strip_mentions_text().text if activity.text else ""
        parsed = parse(text)
        help_word = word(Sub.HELP, t.lang)
        if parsed.sub is Sub.HELP:
            await ctx.send(help_card(t))
        elif parsed.sub is not None:
            await ctx.send(
                text_card(t("teams.not_yet", help=help_word, word=word(parsed.sub, t.lang)), t.lang)
            )
        elif parsed.suggestion is not None:
            suggestion = word(parsed.suggestion, t.lang)
            await ctx.send(
                text_card(t("teams.did_you_mean", word=parsed.word[:40], suggestion=suggestion), t.lang)
            )
        else:
            await ctx.send(text_card(t("teams.unknown", word=parsed.word[:40], help=help_word), t.lang))
        log.info("teams message answered: %s", parsed.sub.name if parsed.sub else "unknown word")

    @app.on_install_add
    async def on_install(ctx: ActivityContext[InstalledActivity]) -> None:
        await remember(deps, ctx.activity)
        await ctx.send(help_card(translator(language_of(ctx.activity, deps.default_language))))

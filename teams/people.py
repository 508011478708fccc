"""Who is asking, from a Teams activity: their person id (one staff profile whichever platform
they use: services.people.identity), their profile and the catalogue in their language (chosen
in the bot, else the activity's locale, else the default)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator, negotiate, translator
from services.people import chat_accounts, identity, staff
from services.people.staff import Staff
from teams.deps import TeamsDeps

PLATFORM = identity.TEAMS


def locale_of(activity: Any) -> str | None:
    """The activity's locale, else its clientInfo entity's."""
    locale = getattr(activity, "locale", None)
    if locale:
        return str(locale)
    for entity in getattr(activity, "entities", None) or []:
        found = getattr(entity, "locale", None)
        if getattr(entity, "type", None) == "clientInfo" and isinstance(found, str) and found:
            return found
    return None


def language_of(activity: Any, default: str) -> str:
    """fi/sv/en from the activity's locale, else its clientInfo entity's, else the default."""
    return negotiate(locale_of(activity), default)


def tenant_of(activity: Any) -> str | None:
    """The tenant the activity comes from: its conversation's, else its channel data's."""
    found = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    if not found:
        tenant = getattr(getattr(activity, "channel_data", None), "tenant", None)
        found = getattr(tenant, "id", None)
    return str(found) if found else None


def reference_of(activity: Any) -> chat_accounts.ChatReference | None:
    """Where the bot can reach the sender again: a 1:1 chat's reference (None elsewhere)."""
    sender = activity.from_
    conversation = activity.conversation
    if sender is None or conversation is None or not sender.id:
        return None
    if getattr(conversation, "conversation_type", None) != "personal":
        return None
    if not activity.service_url:
        return None
    return chat_accounts.ChatReference(
        platform=PLATFORM,
        user_id=sender.id,
        directory_id=getattr(sender, "aad_object_id", None),
        tenant_id=tenant_of(activity),
        conversation_id=conversation.id,
        service_url=activity.service_url,
        display_name=getattr(sender, "name", None),
    )


def allowed_tenants(deps: TeamsDeps) -> set[str]:
    settings = deps.settings
    if settings is None:
        return set()
    named = [settings.teams_tenant_id, *settings.teams_allowed_tenants.split(",")]
    return {tenant.strip().lower() for tenant in named if tenant.strip()}


def tenant_allowed(deps: TeamsDeps, tenant: str | None) -> bool:
    """Is the activity's tenant one whose people may use the bot? Anyone can upload an app
    package naming our bot id in their own tenant, and its token is valid: only the region's
    tenants' people become people of the bot (none named: any, for a local trial)."""
    allowed = allowed_tenants(deps)
    return not allowed or (tenant or "").strip().lower() in allowed


@dataclass(frozen=True)
class Asker:
    person: str
    me: Staff
    t: Translator


def identify(deps: TeamsDeps, activity: Any) -> Asker | None:
    """The person behind a 1:1 chat's activity (their profile made on first contact); None for an
    activity from elsewhere (a channel, a group chat), which only gets help. Sync: run in a thread."""
    reference = reference_of(activity)
    if reference is None or not tenant_allowed(deps, reference.tenant_id):
        return None
    now = deps.now()
    locale = locale_of(activity)
    person = identity.person_of(deps.session_factory, reference, now=now, locale=locale)
    me = staff.identify(deps.session_factory, None, person, now=now, default_language=deps.default_language)
    lang = me.chosen_language or negotiate(locale, deps.default_language)
    return Asker(person, me, translator(lang))


async def asker_of(deps: TeamsDeps, activity: Any) -> Asker | None:
    return await asyncio.to_thread(identify, deps, activity)

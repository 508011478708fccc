"""The Slack app manifest, with the configured command name and request URL."""

from __future__ import annotations

import json
from typing import Any

from bot.config import Settings

# Each bot scope and why the bot needs it (README repeats this for the workspace admin).
BOT_SCOPES = {
    "commands": "the /vertais slash command",
    "chat:write": "decision requests, status cards, reminders and confirmations as messages from the bot",
    "users:read": "each user's Slack language (users.info with include_locale) and display name",
    "files:write": "calendar invites (.ics) and report files uploaded to the people who need them",
    "im:write": "finding the direct message with a person (conversations.open) to check it, see im:history",
    "im:history": (
        "after a crash or an unanswered post, checking whether a message, notice, calendar invite or "
        "reminder already reached the person before sending it again"
    ),
    "channels:history": (
        "after a crash or an unanswered post, checking whether a write-up's post already reached the "
        "idea-bank channel before posting it again"
    ),
}


def build_manifest(settings: Settings) -> dict[str, Any]:
    url = settings.request_url.strip()
    socket_mode = not url
    command: dict[str, Any] = {
        "command": settings.vertais_command,
        "description": "Vertaisoppiminen: etsi, ehdota ja sovi vierailuja kirjastojen välillä",
        "usage_hint": "apua | etsi <aihe> | ehdota | tarjoa | omat | ideat | asetukset",
        "should_escape": False,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": ["app_home_opened"]}
    if url:
        command["url"] = url
        interactivity["request_url"] = url
        interactivity["message_menu_options_url"] = url
        events["request_url"] = url
    return {
        "display_information": {
            "name": "Vertaisbotti",
            "description": "Vertaisoppimisen vierailut kirjastojen välillä (AKE)",
            "background_color": "#1d4f91",
            "long_description": (
                "Vertaisbotti helps public library staff learn from each other: find a host library "
                "for a topic, propose a study visit, get the supervisor's, the host's and the regional "
                "coordinator's decisions with buttons, receive a calendar invite and reminders, and "
                "share what you learned in the idea bank. Travel and accommodation are paid from the "
                "regional development task's grant; per diems stay with the employer."
            ),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "vertaisbotti", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_json(settings: Settings) -> str:
    return json.dumps(build_manifest(settings), ensure_ascii=False, indent=2) + "\n"

"""The people the bot reaches on another chat platform (Microsoft Teams), as the Slack side's
notifiers see them: a port that the composition root fills in (`python -m bot` with Teams
configured; teams/outbound.py), so that the Slack side imports nothing of Teams.

A visit's messages, notices, invites and reminders are rendered once, as for Slack (bot.views);
for a person reached elsewhere the same rendered message goes through this port, which turns it
into that platform's card. Its methods raise services.common.ports.DeliveryError when a message
cannot go out (`permanent` when it never will)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from services.people.identity import is_own_id

# What the composition root gives the Slack side when Teams is configured: given the process's
# session factory (after a fork: each worker its own), the port to Teams.
ElsewhereFactory = Callable[[sessionmaker[Session]], "Elsewhere | None"]
NAME_MARKUP = re.compile(r"[<>&*_~`]")  # what would make a name typed in Teams a link or a ping
MENTION = re.compile(r"<@([A-Za-z0-9]+)(?:\|[^>]*)?>")


class Elsewhere(Protocol):
    def reachable(self, people: Iterable[str]) -> set[str]:
        """Which of these person ids get their messages on the other platform (one query)."""
        ...

    def owns(self, channel: str) -> bool:
        """Is this stored channel (of a message sent before) a conversation on that platform?"""
        ...

    def names(self, people: Iterable[str]) -> dict[str, str]:
        """The display names the bot knows for these person ids."""
        ...

    def post(self, person: str, message: Mapping[str, Any]) -> tuple[str, str]:
        """Send a rendered message to the person's 1:1 chat: its (conversation, activity id)."""
        ...

    def post_to_channel(self, conversation: str, message: Mapping[str, Any]) -> str:
        """Post a rendered message in a channel of that platform (the idea bank's): its activity id."""
        ...

    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        """Replace a message sent before (to a person or a channel) with a newly rendered one."""
        ...

    def invite(
        self, channel: str, *, visit_id: int, sequence: int, kind: str, lang: str, title: str, text: str
    ) -> None:
        """Send the visit's calendar invite (`kind`: confirmed, tentative, cancel, withdrawn)."""
        ...


def is_teams_channel(channel: str) -> bool:
    """Is a stored channel a Teams conversation ("a:…", "19:…")? Slack's ids have no colon."""
    return ":" in channel


def mentioned(message: Mapping[str, Any]) -> set[str]:
    """The person ids mentioned (`<@id>`) anywhere in a rendered message."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.update(MENTION.findall(node))
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    return found


def unmention(message: dict[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """The message with every mention of a person Slack does not know (a Teams-only person, see
    services.people.identity) written as their name, in bold: Slack would show a broken mention."""

    def name(match: re.Match[str]) -> str:
        person = match.group(1)
        if not is_own_id(person):
            return match.group(0)
        return f"*{NAME_MARKUP.sub('', names.get(person, '–'))}*"  # a name, never markup

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return MENTION.sub(name, node)
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(message)

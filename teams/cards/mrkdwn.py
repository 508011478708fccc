"""Slack mrkdwn and text objects (bot/views) as Adaptive Card text: bold, links, mentions, dates, emoji,
entities, line breaks; and the tolerant readers of a Block Kit dict the renderers share.

Pure functions; a malformed value reads as empty, never raises."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

MISSING = "–"  # shown for a person or channel the caller gave no name for (never the raw id)

# The shortcodes the catalogues use (bot/i18n/locales), plus a few common ones; any other is removed.
EMOJI: dict[str, str] = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "calendar": "📅",
    "date": "📅",
    "spiral_calendar_pad": "🗓️",
    "books": "📚",
    "book": "📖",
    "bulb": "💡",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "information_source": "ℹ️",
    "tada": "🎉",
    "wave": "👋",
    "memo": "📝",
    "pencil": "📝",
    "car": "🚗",
    "train": "🚆",
    "bus": "🚌",
    "money_with_wings": "💸",
    "moneybag": "💰",
    "clock": "🕒",
    "email": "📧",
    "envelope": "✉️",
    "link": "🔗",
    "pushpin": "📌",
    "star": "⭐",
    "thumbsup": "👍",
    "+1": "👍",
    "no_entry": "⛔",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "arrow_right": "➡️",
}

_ANGLE = re.compile(r"<([^<>\n]*)>")
_EMOJI = re.compile(r"(?<![\w:]):([a-z][a-z0-9_+\-]*|\+1):(?![\w:])")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)(?![ \t]*(?:[-*+]|\d+\.)[ \t])")
_USER = re.compile(r"^@([UWTB][A-Za-z0-9]+)(?:\|[^>]*)?$")
_CHANNEL = re.compile(r"^#([CGD][A-Za-z0-9]+)(?:\|([^>]*))?$")


def str_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def dict_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def list_of(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# --- mrkdwn → Adaptive Card markdown -----------------------------------------------------------------


_MARKUP = re.compile(r"[\[\]()*_~`<>&]")


def inert(name: str) -> str:
    """A name (a person typed it into their Teams profile) as plain text: no links, no emphasis."""
    return _MARKUP.sub("", name)


def mrkdwn_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn (bot/views) as TextBlock markdown: bold, links, mentions, dates, emoji, entities.

    Strikethrough (`~s~`) has no Adaptive Card markdown: its marks are dropped and the text kept.
    """
    if not isinstance(text, str) or not text:
        return ""
    names = names or {}

    def angle(match: re.Match[str]) -> str:
        inner = match.group(1)
        user = _USER.match(inner)
        if user:
            return inert(names.get(user.group(1), MISSING))
        channel = _CHANNEL.match(inner)
        if channel:
            return "#" + inert(names.get(channel.group(1)) or channel.group(2) or MISSING)
        if inner.startswith("!date^"):
            return inner.partition("|")[2] if "|" in inner else ""
        if inner.startswith("!"):  # <!channel>, <!here>, <!subteam^…>: never a broadcast on Teams
            return inner.partition("|")[2]
        url, _, label = inner.partition("|")
        if url.startswith(("http://", "https://", "mailto:")):
            return f"[{label}]({url})" if label else url
        return match.group(0)

    # Markdown link syntax typed by a person is plain text on Slack: keep it so (no link on Teams either)
    text = text.replace("](", "] (")
    text = _ANGLE.sub(angle, text)
    text = _BOLD.sub(r"**\1**", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text)
    return _line_breaks(html.unescape(text))


def _line_breaks(text: str) -> str:
    """Slack breaks a line at every newline; a Teams TextBlock only at a blank line, or between the items
    of a Markdown list (Microsoft's "Format cards in Teams"): so a lone newline becomes a blank line,
    unless the next line is a list item."""
    return _LONE_NEWLINE.sub("\n\n", text)


def text_of(obj: Any, names: Mapping[str, str] | None) -> str:
    """A Slack text object (plain_text or mrkdwn) as card markdown."""
    obj = dict_of(obj)
    text = str_of(obj.get("text"))
    if obj.get("type") == "plain_text":
        return _line_breaks(_EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text))
    return mrkdwn_text(text, names)


def plain_of(obj: Any) -> str:
    """A label or button title (no markdown in Teams there): the plain text, entities unescaped."""
    text = str_of(dict_of(obj).get("text"))
    return html.unescape(_EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text))

"""Adaptive Cards (1.5, the newest Teams renders) as pure functions of data and a translator.
Every word comes from the catalogues (bot/i18n/locales/*/teams.po and core.po)."""

from __future__ import annotations

from typing import Any, Literal

from microsoft_teams.cards import AdaptiveCard, TextBlock

from bot.commands import Sub, word
from bot.i18n import Translator

CARD_VERSION: Literal["1.5"] = "1.5"


def help_lines(t: Translator, *, coordinator: bool = False) -> list[str]:
    lines = [
        t("teams.help.line.find", word=word(Sub.FIND, t.lang)),
        t("teams.help.line.propose", word=word(Sub.PROPOSE, t.lang)),
        t("teams.help.line.offer", word=word(Sub.OFFER, t.lang)),
        t("teams.help.line.mine", word=word(Sub.MINE, t.lang)),
        t("teams.help.line.ideas", word=word(Sub.IDEAS, t.lang)),
        t("teams.help.line.settings", word=word(Sub.SETTINGS, t.lang)),
    ]
    if coordinator:
        lines.append(t("teams.help.line.report", word=word(Sub.REPORT, t.lang)))
    return lines


def help_card(t: Translator) -> AdaptiveCard:
    """What the bot can do: the Teams twin of Slack's help message."""
    body: list[Any] = [
        TextBlock(text=t("help.title"), weight="Bolder", size="Medium", wrap=True),
        TextBlock(text=t("help.intro"), wrap=True),
        TextBlock(text="\n\n".join(f"- {line}" for line in help_lines(t)), wrap=True),
        TextBlock(text=t("teams.help.hint"), wrap=True, is_subtle=True),
        TextBlock(text=t("help.money"), wrap=True, is_subtle=True, size="Small"),
    ]
    return AdaptiveCard(version=CARD_VERSION, body=body, lang=t.lang)


def text_card(text: str, lang: str) -> AdaptiveCard:
    return AdaptiveCard(version=CARD_VERSION, body=[TextBlock(text=text, wrap=True)], lang=lang)


def card_json(card: AdaptiveCard) -> dict[str, Any]:
    """The card as Teams receives it (camelCase JSON)."""
    return card.model_dump(by_alias=True, exclude_none=True)

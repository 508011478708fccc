"""Short replies (coming soon, did-you-mean, errors) and the main buttons that help and App Home share."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b


def ephemeral(text: str, extra: list[b.Block] | None = None) -> dict[str, Any]:
    body = b.message(text, [b.section(text), *(extra or [])])
    body["response_type"] = "ephemeral"
    return body


def coming_soon(t: Translator, command: str, word: str) -> dict[str, Any]:
    return ephemeral(t("common.coming_soon", command=command, word=word))


def did_you_mean(t: Translator, command: str, word: str, suggestion: str | None) -> dict[str, Any]:
    shown = b.escape(word[:40])
    if suggestion:
        text = t("common.did_you_mean", command=command, word=shown, suggestion=suggestion)
    else:
        text = t("common.unknown_word", command=command, word=shown)
    return ephemeral(text, [b.actions(b.button(t("help.button.help"), ids.OPEN_HELP))])


def error_text(t: Translator, key: str, params: dict[str, object]) -> str:
    return t(key, **params)


def error_modal(t: Translator, text: str) -> dict[str, Any]:
    """Pushed over a form when saving failed, so that closing it returns to the filled form."""
    return b.modal(ids.ERROR_VIEW, t("error.modal.title"), [b.section(text)], close=t("common.back"))


def main_actions(t: Translator) -> b.Block:
    return b.actions(
        b.button(t("help.button.propose"), ids.OPEN_PROPOSE, style="primary"),
        b.button(t("help.button.find"), ids.OPEN_FIND),
        b.button(t("help.button.offer"), ids.OPEN_OFFER),
        b.button(t("help.button.mine"), ids.OPEN_MINE),
        b.button(t("help.button.settings"), ids.OPEN_SETTINGS),
        block_id="main_actions",
    )


def home_library_prompt(t: Translator) -> b.Block:
    return b.section(
        t("help.no_home_library"),
        accessory=b.button(t("help.button.choose_library"), ids.OPEN_SETTINGS, style="primary"),
    )

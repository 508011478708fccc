"""Message catalogues (gettext .po files read with Babel) and language negotiation.

Every user-facing word the bot says is a message id in `locales/<lang>/LC_MESSAGES/*.po`.
Message ids are stable dotted keys (`help.title`); each language, Finnish included, gives the
text. Placeholders use `{name}` (python-brace-format). All `.po` files of a language are merged,
so each feature keeps its own file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
FALLBACK = "fi"

log = logging.getLogger(__name__)


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The merged messages of one language: message id -> text."""
    messages: dict[str, str] = {}
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and isinstance(message.id, str) and isinstance(message.string, str):
                    if message.string:
                        messages[message.id] = message.string
    return messages


@dataclass(frozen=True)
class Translator:
    """`t("key", name=value)` in one language; `t.lang` says which."""

    lang: str

    def __call__(self, key: str, /, **params: object) -> str:
        text = catalogue(self.lang).get(key)
        if text is None:
            log.error("missing message %r in %s", key, self.lang)
            text = catalogue(FALLBACK).get(key, key)
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                log.error("bad placeholders in message %r (%s)", key, self.lang)
                return text
        return text

    def plural(self, key: str, count: int, /, **params: object) -> str:
        """`key.one` for 1, `key.other` otherwise (true for fi, sv and en)."""
        return self(f"{key}.one" if count == 1 else f"{key}.other", count=count, **params)

    def has(self, key: str) -> bool:
        return key in catalogue(self.lang)


@cache
def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else FALLBACK)


def negotiate(locale: str | None, default: str = FALLBACK) -> str:
    """Slack locale (`fi-FI`, `sv-SE`, `en-US`, `en_GB`) -> one of our languages."""
    if locale:
        primary = locale.replace("_", "-").split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return default if default in LANGUAGES else FALLBACK


__all__ = ["LANGUAGES", "Translator", "catalogue", "negotiate", "translator"]

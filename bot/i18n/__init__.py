"""Message catalogues (gettext .po files read with Babel) and language negotiation.

Every user-facing word the bot says is a message id in `locales/<lang>/LC_MESSAGES/*.po`.
Message ids are stable dotted keys (`help.title`); each language, Finnish included, gives the
text. Placeholders use `{name}` (python-brace-format). All `.po` files of a language are merged,
so each feature keeps its own file.

A message that counts something is a gettext plural entry (`msgid "find.more"`, `msgid_plural
"find.more.plural"`, `msgstr[0]`, `msgstr[1]`, ... as the catalogue's Plural-Forms header says):
`t.plural("find.more", n)` picks the form by the language's own plural rule, through the
standard library's gettext reading the catalogue Babel compiles.
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
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


PLURAL_SUFFIX = ".plural"  # a plural entry's msgid_plural: its msgid and this


@cache
def plurals(lang: str) -> gettext.GNUTranslations:
    """The language's plural messages, compiled by Babel and read by gettext (which evaluates the
    catalogue's Plural-Forms rule)."""
    merged = Catalog(locale=lang)
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            found = read_po(handle, locale=lang)
        if path.name == "core.po":  # its header's Plural-Forms is the rule (not Babel's own data)
            merged.mime_headers = found.mime_headers
        for message in found:
            if isinstance(message.id, tuple) and isinstance(message.string, tuple) and all(message.string):
                merged.add(message.id, message.string, flags=message.flags)
    compiled = BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def plural_keys(lang: str) -> set[str]:
    """The msgids of the language's plural messages."""
    keys: set[str] = set()
    for path in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            keys |= {m.id[0] for m in read_po(handle, locale=lang) if isinstance(m.id, tuple)}
    return keys


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
        """The plural entry `key` in the form the language's rule gives for `count` (filled with
        `count` and `params`); Finnish, then the key, where the language lacks it."""
        other = key + PLURAL_SUFFIX
        text = plurals(self.lang).ngettext(key, other, count)
        if text in (key, other) and self.lang != FALLBACK:
            log.error("missing plural message %r in %s", key, self.lang)
            text = plurals(FALLBACK).ngettext(key, other, count)
        if text in (key, other):
            return key
        try:
            return text.format(count=count, **params)
        except (KeyError, IndexError, ValueError):
            log.error("bad placeholders in message %r (%s)", key, self.lang)
            return text

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

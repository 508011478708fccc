"""The words of `/vertais`: subcommands in Finnish, with English (and Swedish) aliases."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum


class Sub(StrEnum):
    HELP = "apua"
    PROPOSE = "ehdota"
    FIND = "etsi"
    OFFER = "tarjoa"
    MINE = "omat"
    IDEAS = "ideat"
    REPORT = "raportti"
    SETTINGS = "asetukset"


ALIASES: dict[str, Sub] = {
    **{sub.value: sub for sub in Sub},
    "help": Sub.HELP,
    "ohje": Sub.HELP,
    "hjälp": Sub.HELP,
    "propose": Sub.PROPOSE,
    "föreslå": Sub.PROPOSE,
    "find": Sub.FIND,
    "search": Sub.FIND,
    "sök": Sub.FIND,
    "offer": Sub.OFFER,
    "erbjud": Sub.OFFER,
    "mine": Sub.MINE,
    "mina": Sub.MINE,
    "my": Sub.MINE,  # `/vertais my data`
    "ideas": Sub.IDEAS,
    "idéer": Sub.IDEAS,
    "report": Sub.REPORT,
    "rapport": Sub.REPORT,
    "settings": Sub.SETTINGS,
    "inställningar": Sub.SETTINGS,
}

# The words each language's users are shown (help, tips, suggestions); every one of them works.
WORDS: dict[str, dict[Sub, str]] = {
    "fi": {sub: sub.value for sub in Sub},
    "sv": {
        Sub.HELP: "hjälp",
        Sub.PROPOSE: "föreslå",
        Sub.FIND: "sök",
        Sub.OFFER: "erbjud",
        Sub.MINE: "mina",
        Sub.IDEAS: "idéer",
        Sub.REPORT: "rapport",
        Sub.SETTINGS: "inställningar",
    },
    "en": {
        Sub.HELP: "help",
        Sub.PROPOSE: "propose",
        Sub.FIND: "find",
        Sub.OFFER: "offer",
        Sub.MINE: "mine",
        Sub.IDEAS: "ideas",
        Sub.REPORT: "report",
        Sub.SETTINGS: "settings",
    },
}


# `/vertais omat tiedot`: one's own data, a word after MINE's (any language's works).
DATA_WORDS = {"fi": "tiedot", "sv": "uppgifter", "en": "data"}
MY_DATA = {"fi": "omat tiedot", "sv": "mina uppgifter", "en": "my data"}


def is_my_data(rest: str) -> bool:
    """Is what follows `omat` / `mina` / `mine` / `my` a word for one's own data?"""
    first = (rest or "").strip().split(" ", 1)[0].lower()
    return first in DATA_WORDS.values()


def my_data_words(lang: str) -> str:
    return MY_DATA.get(lang, MY_DATA["fi"])


def word(sub: Sub, lang: str) -> str:
    """The subcommand's word in the user's language (Finnish where there is none)."""
    return WORDS.get(lang, WORDS["fi"]).get(sub, sub.value)


MAX_TEXT = 3000


@dataclass(frozen=True)
class Parsed:
    sub: Sub | None
    word: str
    rest: str
    suggestion: Sub | None = None
    suggested_word: str | None = None  # the known word nearest to the one typed, in its language


def parse(text: str | None) -> Parsed:
    """Split `/vertais <word> <rest>`; an empty text means help, an unknown word gets a suggestion."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        return Parsed(Sub.HELP, "", "")
    word, _, rest = text.partition(" ")
    key = word.lower()
    if key in ALIASES:
        return Parsed(ALIASES[key], word, rest.strip())
    close = difflib.get_close_matches(key, list(ALIASES), n=1, cutoff=0.6)
    return Parsed(None, word, rest.strip(), ALIASES[close[0]] if close else None, close[0] if close else None)

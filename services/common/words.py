"""Words as the bot searches them: Finnish-aware stems (Snowball's Finnish stemmer, doubled
consonants made single) of the meaningful words of a text. The topic index, the host offers'
`search_terms` and the idea bank's `search_terms` are all made of these."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W\d_]+")
MAX_QUERY_CHARS = 300
MAX_QUERY_WORDS = 12
MIN_WORD = 2
STOPWORDS = frozenset(
    "ja sekä tai muu muut ym yms kuten eli the and or of for in on a an to with och eller samt "
    "annat annan med för av i på till t ex eg e g".split()
)

_stemmer = snowballstemmer.stemmer("finnish")


DOUBLE_CONSONANT = re.compile(r"([^aeiouyäöå])\1")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball Finnish stem of one lower-case word, with doubled consonants made single so
    that consonant gradation (`vinkkaus` / `vinkkausta` -> `vinkau`) meets (memoised: pure)."""
    return DOUBLE_CONSONANT.sub(r"\1", _stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Stems of the meaningful words of `text`, in order, without repeats."""
    seen: dict[str, None] = {}
    for raw in WORD.findall(text.lower()):
        if len(raw) < MIN_WORD or raw in STOPWORDS:
            continue
        seen.setdefault(stem(raw), None)
    return list(seen)


def index_text(text: str) -> str:
    """What `HostOffer.search_terms` stores: the stems, space-separated and space-padded."""
    return " " + " ".join(words(text)) + " " if text.strip() else ""

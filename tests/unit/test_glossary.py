"""One word for each thing: no catalogue line uses a word docs/glossary.md retired."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"


def retired_words() -> dict[str, dict[str, list[str]]]:
    """The glossary's TOML block: language -> the word used -> the words it retired."""
    block = re.search(r"```toml\n(.*?)```", GLOSSARY.read_text(encoding="utf-8"), re.S)
    assert block, "docs/glossary.md has no ```toml block"
    return tomllib.loads(block.group(1))


def pattern(word: str) -> re.Pattern[str]:
    """A whole word (a hyphenated compound is one word); `*` at the end: with any ending."""
    stem = word.rstrip("*")
    body = r"\s+".join(re.escape(part) for part in stem.split())
    tail = r"[\w-]*" if word.endswith("*") else ""
    return re.compile(rf"(?<![\w-]){body}{tail}(?![\w-])", re.I)


def lines(lang: str) -> list[tuple[str, str, str]]:
    """(file, key, text) for every msgstr (each plural form) of the language."""
    found = []
    for path in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if not message.id:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                texts = message.string if isinstance(message.string, tuple) else (message.string,)
                found += [(path.name, key, text) for text in texts if text]
    return found


def offences(lang: str, words: dict[str, list[str]], catalogue: list[tuple[str, str, str]]) -> list[str]:
    said: dict[tuple[str, str, str, int], str] = {}  # one line for a word two patterns catch
    for use, retired in words.items():
        for word in retired:
            rule = pattern(word)
            for file, key, text in catalogue:
                for hit in rule.finditer(text):
                    said.setdefault(
                        (file, key, text, hit.start()),
                        f"{lang}/{file} {key}: {hit.group(0)!r} (the glossary says {use!r})",
                    )
    return list(said.values())


def test_the_glossary_names_every_language():
    assert set(retired_words()) == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_catalogue_line_uses_a_retired_word(lang):
    found = offences(lang, retired_words()[lang], lines(lang))
    assert not found, "retired words in the catalogue:\n" + "\n".join(found)


def test_the_match_is_by_whole_word_and_inflection():
    words = {"kohdekirjasto": ["isäntä*", "isännä*"], "matkalasku": ["laskun"]}
    catalogue = [
        ("x.po", "a", "Viesti isännälle"),
        ("x.po", "b", "Isäntäkirjasto vastaa"),
        ("x.po", "c", "Lähetä matkalaskun kuitti"),  # a compound that keeps the word used
        ("x.po", "d", "Isä tulee"),
    ]
    found = offences("fi", words, catalogue)
    assert [line.split(":")[0] for line in found] == ["fi/x.po b", "fi/x.po a"]
    assert "'isännälle'" in found[1]
    assert pattern("information specialist*").search("the information specialists help")

"""Every message the code uses exists in Finnish, Swedish and English, with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalogue, plural_keys, translator
from services.people.staff import negotiate

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
SOURCE_DIRS = ("bot", "handlers", "services", "scheduler", "teams")


def used_keys() -> tuple[set[str], set[str]]:
    """String literals in the code that look like message keys, and the keys given to t.plural."""
    prefixes = {key.split(".")[0] for key in catalogue("fi")}
    keys: set[str] = set()
    plurals: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # Audit-log action names (`action="settings.update"`) look like keys but are not said.
            not_said = {
                id(inner)
                for node in ast.walk(tree)
                if isinstance(node, ast.keyword) and node.arg == "action"
                for inner in ast.walk(node.value)
            }
            for node in ast.walk(tree):
                if id(node) in not_said:
                    continue
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "plural"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    plurals.add(node.args[0].value)
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and KEY.match(node.value)
                    and not node.value.endswith((".json", ".csv", ".po", ".py"))  # file names
                ):
                    if node.value.split(".")[0] in prefixes:
                        keys.add(node.value)
    return keys - plurals, plurals


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_are_not_empty() -> None:
    for lang in LANGUAGES:
        assert len(catalogue(lang)) > 40


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_the_code_uses_is_in_the_catalogue(lang: str) -> None:
    keys, plurals = used_keys()
    assert len(keys) > 40
    messages = catalogue(lang)
    missing = sorted(key for key in keys if key not in messages)
    missing += sorted(key for key in plurals if key not in plural_keys(lang))
    assert missing == [], f"{lang} catalogue lacks {missing}"


def test_plurals_are_gettext_plural_entries_by_each_language_s_rule() -> None:
    """No hand-made `.one`/`.other` keys: a count picks its form by the language's plural rule."""
    for lang in LANGUAGES:
        assert not [
            k
            for k in catalogue(lang)
            if k.endswith((".one", ".many")) or k.endswith(".other") and k != "visits.travel.other"
        ]
        assert plural_keys(lang) == plural_keys("fi")
    fi, sv, en = (translator(lang) for lang in LANGUAGES)
    assert fi.plural("find.more", 1) == "…ja vielä 1 kirjasto. Tarkenna hakua, niin näet sen."
    assert fi.plural("find.more", 0).startswith("…ja vielä 0 kirjastoa")
    assert fi.plural("find.more", 21).startswith("…ja vielä 21 kirjastoa")
    assert sv.plural("writeups.export.sent", 2) != sv.plural("writeups.export.sent", 1)
    assert en.plural("find.more", 1).startswith("…and 1 more library.")
    assert en.plural("find.more", 2).startswith("…and 2 more libraries.")
    assert "1 yö ×" in fi.plural("visits.cost.nights", 1, price="80 €", amount="80 €")
    assert "2 yötä ×" in fi.plural("visits.cost.nights", 2, price="80 €", amount="160 €")
    assert en.plural("no.such.message", 2) == "no.such.message"


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_catalogues_have_the_same_messages_and_placeholders(lang: str) -> None:
    finnish = catalogue("fi")
    other = catalogue(lang)
    assert sorted(set(finnish) - set(other)) == []
    assert sorted(set(other) - set(finnish)) == []
    for key, text in finnish.items():
        assert placeholders(other[key]) == placeholders(text), key


def test_a_missing_message_falls_back_to_finnish_then_the_key() -> None:
    assert translator("en")("no.such.message") == "no.such.message"
    assert translator("xx").lang == "fi"


def test_locale_negotiation() -> None:
    assert negotiate("en-US", "fi") == "en"
    assert negotiate("en_GB", "fi") == "en"
    assert negotiate("sv-SE", "fi") == "sv"
    assert negotiate("fi-FI", "en") == "fi"
    assert negotiate("de-DE", "fi") == "fi"
    assert negotiate(None, "sv") == "sv"


def test_placeholders_are_filled() -> None:
    t = translator("fi")
    assert t("help.home_library", library="Iisalmen kirjasto") == "Kotikirjastosi: Iisalmen kirjasto"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_message_is_defined_in_two_files(lang: str) -> None:
    from babel.messages.pofile import read_po

    from bot.i18n import LOCALES_DIR

    seen: dict[str, str] = {}
    clashes = []
    for path in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and isinstance(message.id, str):
                    if message.id in seen:
                        clashes.append((message.id, seen[message.id], path.name))
                    seen[message.id] = path.name
    assert clashes == []


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_finnish_and_swedish_quote_with_the_same_mark_on_both_sides(lang: str) -> None:
    """”…” in Finnish and Swedish (never “…”, „…“ or straight quotes)."""
    wrong = {key: text for key, text in catalogue(lang).items() if any(q in text for q in '“„"')}
    assert wrong == {}


def test_the_plural_form_follows_the_catalogue_s_plural_forms_header(tmp_path: Path, monkeypatch) -> None:
    """The rule is the .po header's (here an odd one), not a table of Babel's own."""
    import bot.i18n as i18n

    folder = tmp_path / "fi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "core.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: fi\\n"\n"Plural-Forms: nplurals=2; plural=(n > 5);\\n"\n'
        '"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, python-brace-format\nmsgid "x.count"\nmsgid_plural "x.count.plural"\n'
        'msgstr[0] "few {count}"\nmsgstr[1] "many {count}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.plurals.cache_clear()
    try:
        t = i18n.Translator("fi")
        assert t.plural("x.count", 2) == "few 2" and t.plural("x.count", 6) == "many 6"
    finally:
        i18n.plurals.cache_clear()

import json

import pytest

from bot.commands import Sub, parse


def test_empty_text_is_help() -> None:
    assert parse("").sub is Sub.HELP
    assert parse(None).sub is Sub.HELP
    assert parse("   ").sub is Sub.HELP


def test_finnish_words_and_aliases() -> None:
    assert parse("etsi karaoke").sub is Sub.FIND
    assert parse("etsi karaoke").rest == "karaoke"
    assert parse("FIND lukukoira").sub is Sub.FIND
    assert parse("propose").sub is Sub.PROPOSE
    assert parse("settings").sub is Sub.SETTINGS
    assert parse("mine").sub is Sub.MINE
    assert parse("ideas kirjastoauto").rest == "kirjastoauto"
    assert parse("report 2026").sub is Sub.REPORT
    assert parse("offer").sub is Sub.OFFER


def test_typos_get_a_suggestion() -> None:
    assert parse("ehdot").suggestion is Sub.PROPOSE
    assert parse("ehdot").sub is None
    assert parse("asetuks").suggestion is Sub.SETTINGS
    assert parse("etis").suggestion is Sub.FIND
    assert parse("qqqqqq").suggestion is None


def test_huge_input_is_cut() -> None:
    parsed = parse("etsi " + "a" * 10_000)
    assert parsed.sub is Sub.FIND
    assert len(parsed.rest) < 3001


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_help_shows_swedish_and_english_users_their_own_command_words(lang: str) -> None:
    """Every word help shows works, and none of a Swedish or English user's is Finnish."""
    from bot.commands import WORDS, Sub, parse
    from bot.i18n import catalogue, translator
    from bot.views.help import help_message
    from services.people.staff import Staff

    t = translator(lang)
    staff = Staff("U0X", lang, None, None, None, None)
    text = json.dumps(help_message(t, command="/vertais", staff=staff, coordinator=True), ensure_ascii=False)
    finnish = {sub.value for sub in Sub}
    for sub, shown in WORDS[lang].items():
        assert parse(shown).sub == sub
        if sub != Sub.HELP:
            assert f"/vertais {shown}" in text, shown
    assert not [w for w in finnish if f"/vertais {w}" in text]
    said = " ".join(catalogue(lang).values())
    assert not [w for w in finnish if "{command} " + w in said], "a Finnish command word in the catalogue"

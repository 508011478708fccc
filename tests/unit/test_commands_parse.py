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

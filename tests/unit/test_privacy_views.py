"""My data's words and messages: the command's words in each language, and every message inside
Block Kit's limits in fi, sv and en."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import Sub, is_my_data, my_data_words, parse
from bot.i18n import translator
from bot.views import privacy
from bot.views.limits import check_message


@pytest.mark.parametrize("text", ["omat tiedot", "mina uppgifter", "my data", "Omat Tiedot", "mine data"])
def test_my_data_words(text: str) -> None:
    parsed = parse(text)
    assert parsed.sub is Sub.MINE and is_my_data(parsed.rest)


@pytest.mark.parametrize("text", ["omat", "omat 2", "mine", "omat tietoni"])
def test_other_words_after_omat_are_not_my_data(text: str) -> None:
    assert not is_my_data(parse(text).rest)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_every_message_fits_and_is_translated(lang: str) -> None:
    t = translator(lang)
    day = date(2026, 12, 7)
    messages = [
        privacy.export_sending(t),
        privacy.export_message(t, 0),
        privacy.export_message(t, 1),
        privacy.export_message(t, 250),
        privacy.export_failed(t),
        privacy.asked(t, new=True, anyone=True),
        privacy.asked(t, new=False, anyone=True),
        privacy.asked(t, new=True, anyone=False),
        privacy.asked(t, new=True, anyone=True, reached=False),
        privacy.coordinator_request(t, "U0VISITOR", 12),
        privacy.coordinator_done(t, "U0COORD", day, told=True),
        privacy.coordinator_done(t, "U0COORD", day, told=False),
        privacy.already_done(t, "U0COORD", day),
        privacy.forgotten(t),
    ]
    for message in messages:
        check_message({k: v for k, v in message.items() if k != "response_type"})
        assert "privacy." not in str(message)  # no key shown for a missing message
        assert "{" not in message["text"]  # every placeholder filled
    assert my_data_words(lang).split()[1] in ("tiedot", "uppgifter", "data")

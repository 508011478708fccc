"""The find / offer / topics messages exist in fi, sv and en with the same placeholders, and
every message key the feature's code uses is in the catalogues."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalogue, plural_keys

ROOT = Path(__file__).parent.parent.parent
FILES = [
    "bot/views/find.py",
    "bot/views/offer.py",
    "bot/views/topics.py",
    "handlers/find.py",
    "handlers/offer.py",
    "handlers/topics.py",
    "services/catalogue/offers.py",
    "services/catalogue/topics.py",
]
KEY = re.compile(r"""["']((?:find|offer|topics|weekday)\.[a-z_.]+[a-z_])["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def own_keys() -> set[str]:
    keys: set[str] = set()
    for lang in LANGUAGES:
        for path in (ROOT / "bot/i18n/locales" / lang / "LC_MESSAGES").glob("*.po"):
            if path.stem in ("find", "offer"):
                keys |= {
                    k for k in catalogue(lang) if k.split(".")[0] in ("find", "offer", "topics", "weekday")
                }
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_in_every_language_with_the_same_placeholders(lang: str) -> None:
    for key in own_keys():
        assert key in catalogue(lang), f"{key} missing in {lang}"
        assert placeholders(catalogue(lang)[key]) == placeholders(catalogue("fi")[key]), (key, lang)


def test_keys_used_in_code_exist() -> None:
    used: set[str] = set()
    for name in FILES:
        used |= set(KEY.findall((ROOT / name).read_text(encoding="utf-8")))
    assert used, "the pattern found no keys"
    missing = {k for k in used if k not in catalogue("fi") and k not in plural_keys("fi")}
    missing -= {"offer.create", "offer.update"}  # audit actions, not messages
    # keys built at run time are checked one by one:
    assert not missing
    for day in range(7):
        assert f"weekday.short.{day}" in catalogue("sv") and f"weekday.long.{day}" in catalogue("en")
    for status in ("approved", "merged", "rejected"):
        assert f"topics.suggester.{status}" in catalogue("sv")

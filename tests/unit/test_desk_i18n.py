"""The desk's messages exist in fi, sv and en with the same placeholders, and every desk key the
code uses (including those built at run time) is in the catalogues."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalogue, translator
from bot.views.desk import csv_labels
from models import InvoiceStatus

ROOT = Path(__file__).parent.parent.parent
FILES = [
    "bot/views/desk.py",
    "handlers/desk.py",
    "services/money/budget.py",
    "services/money/costs.py",
    "services/people/coordinators.py",
    "services/money/travel_invoices.py",
]
KEY = re.compile(r"""["'](desk\.[a-z_.]+[a-z_])["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_desk_message_in_every_language_with_the_same_placeholders(lang: str) -> None:
    keys = {k for k in catalogue("fi") if k.startswith("desk.")}
    assert len(keys) > 100
    for key in keys:
        assert key in catalogue(lang), f"{key} missing in {lang}"
        assert placeholders(catalogue(lang)[key]) == placeholders(catalogue("fi")[key]), (key, lang)
    assert {k for k in catalogue(lang) if k.startswith("desk.")} == keys


def test_desk_keys_used_in_code_exist() -> None:
    used: set[str] = set()
    for name in FILES:
        used |= set(KEY.findall((ROOT / name).read_text(encoding="utf-8")))
    assert len(used) > 50
    assert not {k for k in used if k not in catalogue("fi")}
    for status in InvoiceStatus:
        assert f"desk.invoice.status.{status.value}" in catalogue("sv")
    for lang in LANGUAGES:
        labels = csv_labels(
            translator(lang), year=2027, region="Savo"
        )  # raises on a missing key: every label is a message
        assert all(labels.values())
        assert not any(v.startswith("desk.") for v in labels.values())

"""How every screen writes a day and an amount, in the reader's language (one place, so that the
views of different screens need not import each other for them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot.i18n import Translator

DATE_FORMATS = {"fi": "EEEEEE d.M.yyyy", "sv": "EEE d.M.yyyy", "en": "EEE d MMM yyyy"}


def day_text(day: date | None, t: Translator) -> str:
    if day is None:
        return "–"
    return format_date(day, format=DATE_FORMATS.get(t.lang, "d.M.yyyy"), locale=t.lang)


def money(value: Decimal, t: Translator) -> str:
    return format_currency(
        value, "EUR", locale={"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}.get(t.lang, "fi_FI")
    )


def kilometres(value: Decimal, t: Translator) -> str:
    """120 or 120,5: the same whether the amount was just typed or read back from the database."""
    return format_decimal(
        value, format="#,##0.#", locale={"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}.get(t.lang, "fi_FI")
    )

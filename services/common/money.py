"""Money as the bot keeps it: euro amounts as Decimal, rounded to the cent, and amounts as people
type them ("12,50 €")."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def parse_amount(text: str | None, *, maximum: Decimal) -> Decimal | None:
    """A user-typed non-negative amount ("12,50", "12.5", "") -> Decimal; None if invalid."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".").removesuffix("€")
    if not cleaned:
        return Decimal("0")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        return None
    if not value.is_finite() or value < 0 or value > maximum:
        return None
    return value

"""The cost estimate of a visit: kilometres times the travel year's rate, tickets, accommodation.

Money is Decimal throughout; rates live in the `kilometre_rates` table (one row a year).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import KilometreRate

CENT = Decimal("0.01")
# The rates the migration ships (EUR/km by travel year); used when the table is empty.
SHIPPED_RATES = {2024: Decimal("0.57"), 2025: Decimal("0.59"), 2026: Decimal("0.55")}


@dataclass(frozen=True)
class CostEstimate:
    km: Decimal
    rate: Decimal
    kilometre_allowance: Decimal
    tickets: Decimal
    accommodation: Decimal

    @property
    def total(self) -> Decimal:
        return self.kilometre_allowance + self.tickets + self.accommodation


def rate_for(session: Session, year: int) -> Decimal:
    """The rate of `year`, else the latest earlier year's, else the earliest known (from the
    `kilometre_rates` table, or the shipped rates if the table is empty)."""
    if session.scalar(select(KilometreRate.year).limit(1)) is None:
        return _pick(SHIPPED_RATES, year)
    rate = session.scalar(
        select(KilometreRate.eur_per_km)
        .where(KilometreRate.year <= year)
        .order_by(KilometreRate.year.desc())
        .limit(1)
    )
    if rate is None:
        rate = session.scalar(select(KilometreRate.eur_per_km).order_by(KilometreRate.year).limit(1))
    return Decimal(rate) if rate is not None else Decimal("0")


def _pick(rates: dict[int, Decimal], year: int) -> Decimal:
    earlier = [y for y in rates if y <= year]
    return rates[max(earlier)] if earlier else rates[min(rates)]


def estimate(km: Decimal, rate: Decimal, tickets: Decimal, accommodation: Decimal) -> CostEstimate:
    allowance = (Decimal(km) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return CostEstimate(
        km=Decimal(km),
        rate=Decimal(rate),
        kilometre_allowance=allowance,
        tickets=Decimal(tickets).quantize(CENT),
        accommodation=Decimal(accommodation).quantize(CENT),
    )


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

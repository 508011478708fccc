"""A region's yearly peer-learning budget: budget, committed, spent, remaining.

- committed = the approved estimates (`Visit.funded_cost`) of visits whose funding is approved,
  that are neither cancelled/declined nor settled;
- spent = the actual costs recorded for settled visits (whatever their status);
- remaining = budget - committed - spent, and *no number at all* while the year has no budget
  (every screen then says "no budget set for <year>": a remaining of 0 or of minus the
  committed would be a number nobody decided).

`summarize` is the one place these are computed: the funding card, the coordinator's desk and
the yearly report (its message and its CSV) all read the `BudgetSummary` it returns.

A visit belongs to the year of its agreed date (else its first proposed date) and to the region
of the visitor's home library, the one whose grant pays the travel. Money is Decimal only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from models import Budget, Library, PartyState, Visit, VisitCost, VisitDate, VisitStatus
from services.common import audit
from services.common.errors import InvalidInput
from services.common.money import CENT, parse_amount
from services.people.coordinators import require

ZERO = Decimal("0.00")
MAX_BUDGET = Decimal("10000000")
MIN_YEAR, MAX_YEAR = 2020, 2100
OPEN = (VisitStatus.PROPOSED, VisitStatus.CONFIRMED)


@dataclass(frozen=True)
class BudgetSummary:
    region_id: int
    year: int
    budget: Decimal | None
    committed: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal | None:
        """What is left of the budget; None while the year has no budget."""
        if self.budget is None:
            return None
        return self.budget - self.committed - self.spent

    def would_exceed(self, amount: Decimal) -> bool:
        """Would committing `amount` more take the year over its budget (or is there none)?"""
        remaining = self.remaining
        return remaining is None or amount > remaining

    def over_by(self, amount: Decimal) -> Decimal | None:
        """How far committing `amount` more would go over the budget (None: not over, or no budget)."""
        remaining = self.remaining
        if remaining is None or amount <= remaining:
            return None
        return amount - remaining


def visit_day(visit: Visit) -> date:
    if visit.chosen_date is not None:
        return visit.chosen_date
    days = [d.day for d in visit.dates if d.active] or [d.day for d in visit.dates]
    return min(days) if days else visit.created_at.date()


def committed_amount(visit: Visit, cost: VisitCost | None) -> Decimal:
    if (
        visit.status in OPEN
        and visit.funding_state == PartyState.APPROVED
        and (cost is None or cost.settled_at is None)
    ):
        return Decimal(visit.funded_cost or 0).quantize(CENT)
    return ZERO


def spent_amount(cost: VisitCost | None) -> Decimal:
    if cost is None or cost.settled_at is None:
        return ZERO
    return cost.actual_total.quantize(CENT)


def region_visits(session: Session, region_id: int, year: int) -> list[tuple[Visit, VisitCost | None]]:
    """Every visit of the region's staff in `year`, with its cost row."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    any_date = select(VisitDate.id).where(VisitDate.visit_id == Visit.id)
    in_year = any_date.where(VisitDate.day.between(start, end))
    rows = session.execute(
        select(Visit, VisitCost)
        .join(Library, Library.id == Visit.home_library_id)
        .outerjoin(VisitCost, VisitCost.visit_id == Visit.id)
        .where(
            Library.region_id == region_id,
            # A coarse filter in SQL; visit_day() below decides exactly.
            or_(
                Visit.chosen_date.between(start, end),
                and_(Visit.chosen_date.is_(None), or_(in_year.exists(), ~any_date.exists())),
            ),
        )
        .options(selectinload(Visit.dates))
        .order_by(Visit.id)
    ).all()
    return [(v, c) for v, c in rows if visit_day(v).year == year]


def summarize(session: Session, region_id: int, year: int, *, excluding: Iterable[int] = ()) -> BudgetSummary:
    skip = set(excluding)
    budget = session.scalar(select(Budget.amount).where(Budget.region_id == region_id, Budget.year == year))
    committed = spent = ZERO
    for visit, cost in region_visits(session, region_id, year):
        if visit.id in skip:
            continue
        committed += committed_amount(visit, cost)
        spent += spent_amount(cost)
    return BudgetSummary(
        region_id=region_id,
        year=year,
        budget=Decimal(budget).quantize(CENT) if budget is not None else None,
        committed=committed,
        spent=spent,
    )


def summary(session_factory: sessionmaker[Session], region_id: int, year: int) -> BudgetSummary:
    with session_factory() as session:
        return summarize(session, region_id, year)


def current(session: Session, region_id: int, year: int) -> Budget | None:
    return session.scalar(select(Budget).where(Budget.region_id == region_id, Budget.year == year))


def set_budget(
    session_factory: sessionmaker[Session],
    *,
    actor: str,
    is_coordinator: bool,
    region_id: int,
    year_text: str,
    amount_text: str,
    replace: bool,
    now: datetime,
) -> BudgetSummary:
    """Set a region's budget for a year. If the year has one already, only with `replace`
    (the form then says which amount it replaces)."""
    require(is_coordinator)
    errors: dict[str, tuple[str, dict[str, object]]] = {}
    year = int(year_text) if year_text.strip().isdigit() else None
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        errors["year"] = ("desk.error.year", {"low": MIN_YEAR, "high": MAX_YEAR})
    amount = parse_amount(amount_text, maximum=MAX_BUDGET) if amount_text.strip() else None
    if amount is None:
        errors["amount"] = ("desk.error.budget_amount", {"max": f"{MAX_BUDGET:,.0f}".replace(",", " ")})
    if errors:
        raise InvalidInput(errors)
    assert year is not None and amount is not None
    amount = amount.quantize(CENT)
    with session_factory.begin() as session:
        old = current(session, region_id, year)
        if old is not None and not replace:
            raise InvalidInput.one("amount", "desk.budget.replaces", year=year, old=str(old.amount))
        details: dict[str, object] = {"region_id": region_id, "year": year, "amount": str(amount)}
        if old is None:
            session.add(Budget(region_id=region_id, year=year, amount=amount, set_by=actor, set_at=now))
        else:
            details["replaced"] = str(Decimal(old.amount).quantize(CENT))
            old.amount, old.set_by, old.set_at = amount, actor, now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="budget.set",
            entity="budget",
            entity_id=f"{region_id}:{year}",
            details=details,
        )
        session.flush()
        return summarize(session, region_id, year)

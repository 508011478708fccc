"""The yearly report of a region's peer-learning visits and the coordinator's desk overview
(the report's CSV file and chart: services/money/report_files.py)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    InvoiceStatus,
    Library,
    Region,
    Topic,
    TopicCategory,
    Visit,
    VisitCost,
    VisitDecision,
    VisitStatus,
    VisitTraveller,
)
from services.common import money
from services.ideas import writeups
from services.money import budget as budgets
from services.money.travel_invoices import status_of

STATUSES = tuple(s.value for s in VisitStatus)
# A write-up is overdue on App Home this many days after the visit (the write-ups feature may
# own this number once merged).
WRITEUP_GRACE_DAYS = 14


@dataclass
class Report:
    year: int
    region_name: str
    # budget, committed, spent, remaining: the one summary every screen reads (budget.summarize)
    summary: budgets.BudgetSummary
    total: int = 0
    travellers: int = (
        0  # people on the visits that are going ahead (proposed or agreed): the visitor and colleagues
    )
    # libraries visited on the visits going ahead: each study trip's every stop still on it
    library_visits: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_category: list[tuple[dict[str, str], int]] = field(default_factory=list)
    by_topic: list[tuple[dict[str, str], dict[str, str], int]] = field(default_factory=list)
    by_host: list[tuple[str, int]] = field(default_factory=list)
    by_municipality: list[tuple[str, int]] = field(default_factory=list)
    per_month: list[int] = field(default_factory=lambda: [0] * 12)
    declined_per_month: list[int] = field(default_factory=lambda: [0] * 12)
    cancelled_per_month: list[int] = field(default_factory=lambda: [0] * 12)
    spend_per_month: list[Decimal] = field(default_factory=lambda: [Decimal("0.00")] * 12)
    estimated: Decimal = Decimal("0.00")  # approved estimates of every funded, not cancelled visit
    happened: int = 0  # confirmed visits whose day has passed
    not_happened: int = 0  # agreed, but the visitor said it did not take place (its budget released)
    with_writeup: int = 0
    days_to_confirm: list[int] = field(default_factory=list)

    @property
    def budget(self) -> Decimal | None:
        return self.summary.budget

    @property
    def committed(self) -> Decimal:
        return self.summary.committed

    @property
    def actual(self) -> Decimal:
        """The recorded actual costs (the summary's "spent")."""
        return self.summary.spent

    @property
    def remaining(self) -> Decimal | None:
        return self.summary.remaining

    @property
    def writeup_share(self) -> Decimal | None:
        if not self.happened:
            return None
        return (Decimal(self.with_writeup * 100) / self.happened).quantize(Decimal("0.1"))

    @property
    def median_days(self) -> Decimal | None:
        if not self.days_to_confirm:
            return None
        return Decimal(str(statistics.median(self.days_to_confirm))).quantize(Decimal("0.1"))

    @property
    def mean_days(self) -> Decimal | None:
        if not self.days_to_confirm:
            return None
        return (Decimal(sum(self.days_to_confirm)) / len(self.days_to_confirm)).quantize(Decimal("0.1"))


def _names(row: Topic | TopicCategory) -> dict[str, str]:
    return {"fi": row.name_fi, "sv": row.name_sv, "en": row.name_en}


def build(session: Session, region_id: int, year: int, *, today: date, tz: ZoneInfo) -> Report:
    """The year's report; `tz` (the configured TIMEZONE) decides which day a moment fell on."""
    region = session.get(Region, region_id)
    report = Report(
        year=year,
        region_name=region.name if region else "",
        summary=budgets.summarize(session, region_id, year),
    )
    rows = budgets.region_visits(session, region_id, year)
    report.by_status = dict.fromkeys(STATUSES, 0)
    topics: Counter[int] = Counter()
    hosts: Counter[int] = Counter()
    homes: Counter[int] = Counter()
    confirmed_ids = [v.id for v, _c in rows if v.status == VisitStatus.CONFIRMED]
    confirmed_at = _confirmed_at(session, confirmed_ids)
    going = _travellers(session, [v.id for v, _c in rows])
    for visit, cost in rows:
        report.total += 1
        if visit.happened is False:
            report.not_happened += 1
        report.by_status[visit.status.value] += 1
        further = [stop for stop in visit.stops if stop.removed_at is None]
        # a study trip counts once for each of its hosts and each of its topics
        topics.update({visit.topic_id, *(stop.topic_id for stop in further)})
        hosts[visit.host_library_id] += 1
        hosts.update(stop.library_id for stop in further)
        homes[visit.home_library_id] += 1
        day = budgets.visit_day(visit)
        month = day.month - 1
        if visit.status in (VisitStatus.PROPOSED, VisitStatus.CONFIRMED):
            report.per_month[month] += 1
            report.travellers += going.get(visit.id, 1)
            report.library_visits += 1 + len(further)
        elif visit.status == VisitStatus.DECLINED:
            report.declined_per_month[month] += 1
        else:
            report.cancelled_per_month[month] += 1
        # The same two functions budget.summarize adds up, so the months add up to its totals.
        committed = budgets.committed_amount(visit, cost)
        spent = budgets.spent_amount(cost)
        report.spend_per_month[month] += committed + spent
        if (
            visit.funded_cost is not None
            and visit.status != VisitStatus.DECLINED
            and (visit.status != VisitStatus.CANCELLED or spent)
        ):
            report.estimated += Decimal(visit.funded_cost).quantize(money.CENT)
        if visit.status == VisitStatus.CONFIRMED:
            if day < today:
                report.happened += 1
                if writeups.has_writeup(session, visit.id):
                    report.with_writeup += 1
            at = confirmed_at.get(visit.id)
            if at is not None:
                start = visit.created_at.astimezone(tz).date()
                report.days_to_confirm.append((at.astimezone(tz).date() - start).days)
    topic_rows = {t.id: t for t in session.scalars(select(Topic).where(Topic.id.in_(list(topics))))}
    categories = {c.id: c for c in session.scalars(select(TopicCategory))}
    per_category: Counter[int] = Counter()
    for topic_id, n in topics.items():
        per_category[topic_rows[topic_id].category_id] += n
    report.by_category = [
        (_names(categories[c]), n)
        for c, n in sorted(per_category.items(), key=lambda kv: (-kv[1], categories[kv[0]].position))
    ]
    report.by_topic = [
        (_names(categories[topic_rows[tid].category_id]), _names(topic_rows[tid]), n)
        for tid, n in sorted(topics.items(), key=lambda kv: (-kv[1], topic_rows[kv[0]].name_fi))
    ]
    libs = {
        lib.id: lib for lib in session.scalars(select(Library).where(Library.id.in_(list(hosts | homes))))
    }
    report.by_host = sorted(((libs[i].name, n) for i, n in hosts.items()), key=lambda x: (-x[1], x[0]))
    municipalities: Counter[str] = Counter()
    for i, n in homes.items():
        municipalities[libs[i].municipality] += n
    report.by_municipality = sorted(municipalities.items(), key=lambda x: (-x[1], x[0]))
    return report


def _travellers(session: Session, visit_ids: list[int]) -> dict[int, int]:
    """How many travel on each visit (those who withdrew not counted)."""
    if not visit_ids:
        return {}
    return {
        visit_id: n
        for visit_id, n in session.execute(
            select(VisitTraveller.visit_id, func.count(VisitTraveller.id))
            .where(VisitTraveller.visit_id.in_(visit_ids), VisitTraveller.withdrawn_at.is_(None))
            .group_by(VisitTraveller.visit_id)
        )
    }


def _confirmed_at(session: Session, visit_ids: list[int]) -> dict[int, datetime]:
    """When each visit was confirmed: its latest approval or date pick."""
    if not visit_ids:
        return {}
    found: dict[int, datetime] = {}
    for visit_id, at in session.execute(
        select(VisitDecision.visit_id, VisitDecision.at).where(
            VisitDecision.visit_id.in_(visit_ids), VisitDecision.outcome.in_(("approved", "picked"))
        )
    ):
        if visit_id not in found or at > found[visit_id]:
            found[visit_id] = at
    return found


def report(
    session_factory: sessionmaker[Session], region_id: int, year: int, *, today: date, tz: ZoneInfo
) -> Report:
    with session_factory() as session:
        return build(session, region_id, year, today=today, tz=tz)


def region_id_of(session_factory: sessionmaker[Session], key: str) -> int | None:
    with session_factory() as session:
        return session.scalar(select(Region.id).where(Region.key == key))


# --- The desk overview on App Home ------------------------------------------------------------
@dataclass(frozen=True)
class DeskLine:
    visit_id: int
    visitor_id: str
    host_name: str
    day: date
    travel_mode: str


@dataclass
class DeskOverview:
    summary: budgets.BudgetSummary
    tickets_to_buy: list[DeskLine] = field(default_factory=list)
    invoices_to_check: list[DeskLine] = field(default_factory=list)
    invoices_to_pay: list[DeskLine] = field(default_factory=list)  # received, not yet paid
    costs_to_record: list[DeskLine] = field(default_factory=list)
    upcoming: list[DeskLine] = field(default_factory=list)
    overdue_writeups: int = 0


def overview(session_factory: sessionmaker[Session], region_id: int, *, today: date) -> DeskOverview:
    with session_factory() as session:
        result = DeskOverview(summary=budgets.summarize(session, region_id, today.year))
        rows: list[tuple[Visit, VisitCost | None]] = []
        for year in (today.year - 1, today.year, today.year + 1):
            rows += budgets.region_visits(session, region_id, year)
        names: dict[int, str] = {i: n for i, n in session.execute(select(Library.id, Library.name))}
        for visit, cost in rows:
            if visit.status != VisitStatus.CONFIRMED or visit.chosen_date is None:
                continue
            line = DeskLine(
                visit.id,
                visit.visitor_id,
                names.get(visit.host_library_id, ""),
                visit.chosen_date,
                visit.travel_mode,
            )
            if visit.chosen_date >= today:
                result.upcoming.append(line)
                if visit.travel_mode == "public" and (cost is None or cost.tickets_bought_at is None):
                    result.tickets_to_buy.append(line)
            else:
                invoice = status_of(visit, cost)
                if invoice == InvoiceStatus.WAITING:
                    result.invoices_to_check.append(line)
                elif invoice == InvoiceStatus.RECEIVED:
                    result.invoices_to_pay.append(line)
                if cost is None or cost.settled_at is None:
                    result.costs_to_record.append(line)
                overdue = visit.chosen_date + timedelta(days=WRITEUP_GRACE_DAYS) < today
                if overdue and not writeups.has_writeup(session, visit.id):
                    result.overdue_writeups += 1
        for items in (result.upcoming, result.tickets_to_buy):
            items.sort(key=lambda x: x.day)
        return result

"""The yearly report's two files: the CSV for the annual report and the chart (PNG).

CSV format (documented for the ministry's spreadsheet): UTF-8 **with a BOM** (so Excel opens
the Finnish letters right), `;` as the separator, a decimal comma and no thousands separator in
every number (Finnish Excel's defaults), `\\r\\n` line ends. Every column holds only what its
header says, in every row:

| column  | holds |
|---------|-------|
| section | the row's kind (summary, status, category, topic, host, municipality, money, write-ups, days, month) |
| item    | what the row counts (a status, a topic, a library, a month as YYYY-MM …) |
| detail  | text about the item: the region's name, the year, a topic's category, a month's name, or why a number is missing ("no budget set for 2027") |
| visits  | a number of visits (whole) |
| people  | a number of people (whole): the travellers, visitors and colleagues together |
| days    | a number of days (one decimal): from proposal to confirmation |
| percent | a share in per cent (one decimal): the visits that have a write-up |
| euros   | an amount in euros (two decimals) |

A number that does not exist (the remaining budget of a year without one, a write-up share
before any visit has happened) is left empty, and the detail says why."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from babel.numbers import format_decimal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from services.money.reports import Report

COLUMNS = ("section", "item", "detail", "visits", "people", "days", "percent", "euros")


def number(value: Decimal | None, places: int) -> str:
    """A number for the CSV: decimal comma, no grouping, `places` decimals; None is empty."""
    if value is None:
        return ""
    return format_decimal(value, format="0." + "0" * places if places else "0", locale="fi_FI")


def euros(value: Decimal | None) -> str:
    return number(value, 2)


def to_csv(report: Report, lang: str, labels: dict[str, str]) -> bytes:
    """The report as CSV bytes (UTF-8 with BOM, `;`, decimal comma). `labels` (bot.views.desk.
    csv_labels) names the columns, the sections and the items."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def row(
        section: str,
        item: str,
        detail: str = "",
        *,
        visits: int | None = None,
        people: int | None = None,
        days: Decimal | None = None,
        percent: Decimal | None = None,
        money: Decimal | None = None,
    ) -> None:
        w.writerow(
            [
                labels[section],
                item,
                detail,
                "" if visits is None else str(visits),
                "" if people is None else str(people),
                number(days, 1),
                number(percent, 1),
                euros(money),
            ]
        )

    w.writerow([labels[f"column.{c}"] for c in COLUMNS])
    row("summary", labels["region"], report.region_name)
    row("summary", labels["year"], str(report.year))
    row("summary", labels["total"], visits=report.total)
    row("summary", labels["travellers"], people=report.travellers)
    row("summary", labels["library_visits"], visits=report.library_visits)
    for status, n in report.by_status.items():
        row("status", labels[f"status.{status}"], visits=n)
    for names, n in report.by_category:
        row("category", names.get(lang) or names["fi"], visits=n)
    for cat, names, n in report.by_topic:
        row("topic", names.get(lang) or names["fi"], cat.get(lang) or cat["fi"], visits=n)
    for name, n in report.by_host:
        row("host", name, visits=n)
    for name, n in report.by_municipality:
        row("municipality", name, visits=n)
    summary = report.summary
    no_budget = labels["no_budget"] if summary.budget is None else ""
    row("money", labels["budget"], no_budget, money=summary.budget)
    row("money", labels["estimated"], money=report.estimated)
    row("money", labels["committed"], money=summary.committed)
    row("money", labels["actual"], money=summary.spent)
    row("money", labels["remaining"], no_budget, money=summary.remaining)
    row("writeups", labels["happened"], visits=report.happened)
    row("writeups", labels["not_happened"], visits=report.not_happened)
    share = report.writeup_share
    row(
        "writeups",
        labels["with_writeup"],
        labels["nothing_happened"] if share is None else "",
        visits=report.with_writeup,
        percent=share,
    )
    counted = len(report.days_to_confirm)
    row("days", labels["median"], visits=counted, days=report.median_days)
    row("days", labels["mean"], visits=counted, days=report.mean_days)
    for month in range(12):
        row(
            "month",
            f"{report.year}-{month + 1:02d}",
            labels[f"month.{month + 1}"],
            visits=report.per_month[month],
            money=report.spend_per_month[month],
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- Chart -------------------------------------------------------------------------------------
GOING, CANCELLED, DECLINED, SPEND, BUDGET = "#2a6f97", "#9a9a9a", "#d0d0d0", "#c05746", "#333333"


def _cumulative(values: Sequence[Decimal]) -> list[float]:
    running, out = Decimal("0"), []
    for value in values:
        running += value
        out.append(float(running))  # plotting only: the numbers themselves stay Decimal
    return out


def chart_png(report: Report, labels: dict[str, str]) -> bytes:
    return _png(chart_figure(report, labels))


def chart_figure(report: Report, labels: dict[str, str]) -> Figure:
    """Visits per month (bars: going ahead, and the cancelled and declined stacked on them in
    grey) and the cumulative spend, committed included, against the budget (line). The legends
    sit under the plots, where they cover nothing; a year without visits says so in words."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    locale = labels["chart.locale"]
    fig = Figure(figsize=(11, 5.4), dpi=100, layout="constrained")
    fig.suptitle(labels["chart.title"], fontsize=13)
    if report.total == 0:
        axes = fig.subplots()
        axes.set_axis_off()
        axes.text(0.5, 0.55, labels["chart.empty"], ha="center", va="center", fontsize=16, color="#444444")
        return fig
    left, right = fig.subplots(1, 2)
    months = list(range(1, 13))  # numbers, not strings: matplotlib logs a notice for each string axis
    names = [labels[f"month.{m}"] for m in months]
    for axes in (left, right):
        axes.set_xticks(months, names, rotation=45, ha="right", rotation_mode="anchor")
        axes.set_xlim(0.4, 12.6)
        axes.spines[["top", "right"]].set_visible(False)
    going = report.per_month
    cancelled = report.cancelled_per_month
    declined = report.declined_per_month
    left.bar(months, going, color=GOING, label=labels["chart.going"])
    left.bar(months, cancelled, bottom=going, color=CANCELLED, label=labels["chart.cancelled"])
    stacked = [g + c for g, c in zip(going, cancelled, strict=True)]
    left.bar(months, declined, bottom=stacked, color=DECLINED, hatch="//", label=labels["chart.declined"])
    highest = max(s + d for s, d in zip(stacked, declined, strict=True))
    left.set_ylim(0, max(highest, 1) * 1.1)
    left.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole visits only
    left.set_title(labels["chart.visits"])
    left.set_ylabel(labels["chart.visits_axis"])
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False, fontsize=9)

    cumulative = _cumulative(report.spend_per_month)
    right.plot(months, cumulative, marker="o", color=SPEND, label=labels["chart.spend"])
    top = max(cumulative) if cumulative else 0.0
    if report.summary.budget is not None:
        right.axhline(
            float(report.summary.budget), color=BUDGET, linestyle="--", label=labels["chart.budget"]
        )
        top = max(top, float(report.summary.budget))
    else:
        right.plot([], [], " ", label=labels["chart.no_budget"])  # a legend line without a mark
    right.set_ylim(0, max(top, 1.0) * 1.1)
    right.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: format_decimal(round(value), format="#,##0", locale=locale))
    )
    right.set_title(labels["chart.money"])
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=9)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()

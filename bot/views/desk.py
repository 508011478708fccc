"""The coordinator's desk: the App Home section, the budget / rate / actual-cost / coordinator
modals, the budget lines of the funding decision, and the report message."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import get_month_names
from babel.numbers import format_decimal

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views.formatting import day_text, money
from models import InvoiceStatus, VisitStatus
from services.money.budget import BudgetSummary
from services.money.reports import DeskLine, DeskOverview, Report
from services.visits.visit_card import VisitCard

LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}  # as bot/views/formatting.py writes money
LIST_LIMIT = 5  # lines per list on App Home (keeps the Home tab under 100 blocks)


def money_texts(summary: BudgetSummary, t: Translator) -> dict[str, str]:
    """The year's budget, committed, spent and remaining as every screen writes them (the
    funding card, the desk, the report): where the year has no budget, its budget and remaining
    say so in words instead of a number."""
    none = t("desk.budget.no_budget", year=summary.year)
    return {
        "budget": none if summary.budget is None else money(summary.budget, t),
        "committed": money(summary.committed, t),
        "spent": money(summary.spent, t),
        "remaining": none if summary.remaining is None else money(summary.remaining, t),
    }


def budget_lines(summary: BudgetSummary, t: Translator) -> str:
    texts = money_texts(summary, t)
    if summary.budget is None:
        return t("desk.budget.glance_none", year=summary.year, **texts)
    return t("desk.budget.glance", year=summary.year, **texts)


def funding_budget_blocks(summary: BudgetSummary, cost: Decimal, t: Translator) -> list[b.Block]:
    """Shown to coordinators on a funding decision: the year's money, and a warning (never a
    prohibition) when this visit would take it over budget."""
    blocks: list[b.Block] = [b.section(budget_lines(summary, t))]
    over = summary.over_by(cost)  # None without a budget: the lines above say there is none
    if over is not None:
        blocks.append(b.section(t("desk.budget.warn_over", amount=money(cost, t), over=money(over, t))))
    return blocks


def funding_desk_blocks(card: VisitCard, t: Translator, *, today: date) -> list[b.Block]:
    """On a confirmed visit's coordinator message: tickets, the travel invoice, actual costs."""
    lines: list[str] = []
    elements: list[dict[str, Any]] = []
    value = str(card.id)
    if card.travel_mode != "car" or card.tickets_bought_by:
        if card.tickets_bought_by:
            lines.append(t("desk.visit.tickets_bought", who=f"<@{card.tickets_bought_by}>"))
        elif card.status == VisitStatus.CONFIRMED:
            lines.append(t("desk.visit.tickets_to_buy"))
            elements.append(b.button(t("desk.button.tickets"), ids.TICKETS_BOUGHT, value, style="primary"))
    lines.append(t("desk.visit.invoice", status=t(f"desk.invoice.status.{card.invoice_status}")))
    if card.invoice_status == InvoiceStatus.WAITING.value:
        elements.append(b.button(t("desk.button.invoice"), ids.INVOICE_RECEIVED, value))
    elif card.invoice_status == InvoiceStatus.RECEIVED.value:
        elements.append(b.button(t("desk.button.invoice_paid"), ids.INVOICE_PAID, value))
    happened = card.chosen_date is not None and card.chosen_date <= today
    if card.costs_recorded:
        lines.append(t("desk.visit.costs_recorded"))
    if happened or card.status == VisitStatus.CANCELLED:
        elements.append(b.button(t("desk.button.costs"), ids.OPEN_ACTUALS, value))
    blocks: list[b.Block] = [b.section("\n".join(lines))]
    if elements:
        blocks.append(b.actions(*elements, block_id=f"desk_visit_{card.id}"))
    return blocks


def _line(line: DeskLine, t: Translator) -> str:
    return t(
        "desk.line",
        date=day_text(line.day, t),
        visitor=f"<@{line.visitor_id}>",
        host=b.escape(line.host_name),
        travel=t(f"visits.travel.{line.travel_mode}"),
    )


def _list(
    title: str, lines: list[DeskLine], t: Translator, button: tuple[str, str] | None = None
) -> list[b.Block]:
    blocks: list[b.Block] = [b.section(f"*{title}*")]
    if not lines:
        blocks.append(b.context(t("desk.nothing")))
        return blocks
    for line in lines[:LIST_LIMIT]:
        accessory = b.button(button[0], button[1], str(line.visit_id)) if button else None
        blocks.append(b.section(_line(line, t), accessory=accessory))
    if len(lines) > LIST_LIMIT:
        blocks.append(b.context(t("desk.more", count=len(lines) - LIST_LIMIT)))
    return blocks


def home_section(data: DeskOverview, t: Translator, *, command: str) -> list[b.Block]:
    blocks: list[b.Block] = [
        b.header(t("desk.home.title")),
        b.section(budget_lines(data.summary, t)),
        b.actions(
            b.button(t("desk.button.budget"), ids.OPEN_BUDGET, str(data.summary.year)),
            b.button(t("desk.button.rates"), ids.OPEN_RATES),
            b.button(t("desk.button.report"), ids.OPEN_REPORT, str(data.summary.year)),
            b.button(t("desk.button.add_coordinator"), ids.OPEN_ADD_COORDINATOR),
            b.button(t("desk.button.remove_coordinator"), ids.OPEN_REMOVE_COORDINATOR),
            block_id="desk_actions",
        ),
    ]
    blocks += _list(
        t("desk.home.tickets"), data.tickets_to_buy, t, (t("desk.button.tickets"), ids.TICKETS_BOUGHT)
    )
    blocks += _list(
        t("desk.home.invoices"), data.invoices_to_check, t, (t("desk.button.invoice"), ids.INVOICE_RECEIVED)
    )
    blocks += _list(
        t("desk.home.invoices_to_pay"),
        data.invoices_to_pay,
        t,
        (t("desk.button.invoice_paid"), ids.INVOICE_PAID),
    )
    blocks += _list(t("desk.home.costs"), data.costs_to_record, t, (t("desk.button.costs"), ids.OPEN_ACTUALS))
    blocks += _list(t("desk.home.upcoming"), data.upcoming, t)
    blocks.append(b.context(t("desk.home.writeups", count=data.overdue_writeups)))
    blocks.append(b.context(t("desk.home.tip", command=command)))
    blocks.append(b.divider())
    return blocks


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    hint: str | None = None,
    optional: bool = False,
    max_length: int = 12,
) -> b.Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id, "max_length": max_length}
    if initial:
        element["initial_value"] = initial
    return b.input_block(block_id, label, element, hint=hint, optional=optional)


def budget_modal(t: Translator, *, year: int, current: Decimal | None, region_name: str) -> dict[str, Any]:
    blocks: list[b.Block] = [b.section(t("desk.budget.intro", region=b.escape(region_name)))]
    if current is not None:
        blocks.append(b.context(t("desk.budget.current", year=year, amount=money(current, t))))
    blocks += [
        _text_input(ids.DESK_YEAR, t("desk.form.year"), initial=str(year), max_length=4),
        _text_input(ids.DESK_AMOUNT, t("desk.form.amount"), hint=t("desk.form.amount_hint")),
        b.input_block(
            ids.DESK_REPLACE,
            t("desk.form.replace"),
            {
                "type": "checkboxes",
                "action_id": ids.DESK_REPLACE,
                "options": [b.option(t("desk.form.replace_yes"), "replace")],
            },
            optional=True,
        ),
    ]
    return b.modal(
        ids.BUDGET_VIEW, t("desk.budget.title"), blocks, submit=t("desk.form.save"), close=t("common.close")
    )


def rates_modal(
    t: Translator, *, rates: dict[int, Decimal], year: int, pays_supplement: bool = False
) -> dict[str, Any]:
    yes = b.option(t("desk.form.supplement_yes"), "pays")
    supplement: dict[str, Any] = {"type": "checkboxes", "action_id": ids.DESK_SUPPLEMENT, "options": [yes]}
    if pays_supplement:
        supplement["initial_options"] = [yes]
    table = "\n".join(
        t(
            "desk.rates.row",
            year=y,
            rate=format_decimal(r, format="0.00", locale=LOCALES.get(t.lang, "fi_FI")),
        )
        for y, r in sorted(rates.items())
    )
    blocks: list[b.Block] = [
        b.section(t("desk.rates.intro")),
        b.section(table or "–"),
        _text_input(ids.DESK_YEAR, t("desk.form.year"), initial=str(year), max_length=4),
        _text_input(ids.DESK_RATE, t("desk.form.rate"), hint=t("desk.form.rate_hint"), max_length=8),
        b.input_block(ids.DESK_SUPPLEMENT, t("desk.form.supplement"), supplement, optional=True),
    ]
    return b.modal(
        ids.RATES_VIEW, t("desk.rates.title"), blocks, submit=t("desk.form.save"), close=t("common.close")
    )


def actuals_modal(t: Translator, *, visit_id: int, title_line: str, estimate: str) -> dict[str, Any]:
    blocks: list[b.Block] = [
        b.section(title_line),
        b.context(t("desk.actuals.estimate", estimate=estimate)),
        _text_input(ids.DESK_KM, t("desk.form.km"), hint=t("desk.form.km_hint"), optional=True),
        _text_input(ids.DESK_TICKETS, t("desk.form.tickets"), optional=True),
        _text_input(ids.DESK_ACCOMMODATION, t("desk.form.accommodation"), optional=True),
        b.context(t("desk.actuals.per_diem")),
    ]
    return b.modal(
        ids.ACTUALS_VIEW,
        t("desk.actuals.title"),
        blocks,
        submit=t("desk.form.save"),
        close=t("common.close"),
        private_metadata=str(visit_id),
    )


def coordinator_modal(t: Translator, *, regions: list[tuple[int, str]]) -> dict[str, Any]:
    blocks: list[b.Block] = [
        b.section(t("desk.coordinator.intro")),
        b.input_block(
            ids.DESK_USER, t("desk.form.user"), {"type": "users_select", "action_id": ids.DESK_USER}
        ),
        b.input_block(
            ids.DESK_REGION,
            t("desk.form.region"),
            {
                "type": "static_select",
                "action_id": ids.DESK_REGION,
                "options": [b.option(name, str(rid)) for rid, name in regions[:100]],
            },
        ),
    ]
    return b.modal(
        ids.COORDINATOR_VIEW,
        t("desk.coordinator.title"),
        blocks,
        submit=t("desk.form.save"),
        close=t("common.close"),
    )


def remove_coordinator_modal(t: Translator, *, listed: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """Pick a coordinator to remove; the list says who there is (user, region, configured)."""
    lines = [
        t(
            "desk.coordinator.row_configured" if configured else "desk.coordinator.row",
            user=f"<@{user}>",
            region=b.escape(region),
        )
        for user, region, configured in listed[:40]
    ]
    if len(listed) > 40:
        lines.append(t("desk.more", count=len(listed) - 40))
    blocks: list[b.Block] = [
        b.section(t("desk.coordinator.remove_intro")),
        b.section("\n".join(lines) or "–"),
        b.input_block(
            ids.DESK_USER, t("desk.form.user"), {"type": "users_select", "action_id": ids.DESK_USER}
        ),
    ]
    return b.modal(
        ids.REMOVE_COORDINATOR_VIEW,
        t("desk.coordinator.remove_title"),
        blocks,
        submit=t("desk.form.remove"),
        close=t("common.close"),
    )


def saved_view(t: Translator, text: str) -> dict[str, Any]:
    return b.modal("desk_saved", t("desk.saved.title"), [b.section(text)], close=t("common.close"))


# --- The report --------------------------------------------------------------------------------
def _pairs(items: list[tuple[str, int]], t: Translator, limit: int = 10) -> str:
    if not items:
        return "–"
    shown = [t("desk.report.pair", name=b.escape(name), count=n) for name, n in items[:limit]]
    if len(items) > limit:
        shown.append(t("desk.more", count=len(items) - limit))
    return "\n".join(shown)


def _num(value: Decimal | None, t: Translator) -> str:
    """A share or a number of days, one decimal, by the reader's language (Babel)."""
    if value is None:
        return "–"
    return format_decimal(value, format="0.0", locale=LOCALES.get(t.lang, "fi_FI"))


def report_message(report: Report, t: Translator, *, files_note: str | None = None) -> dict[str, Any]:
    """The report as a message; `files_note` (a text) says where its CSV and chart are (default:
    Slack's, a direct message)."""
    lang = t.lang
    statuses = "\n".join(
        t("desk.report.pair", name=t(f"visits.status.{s}"), count=n) for s, n in report.by_status.items()
    )
    categories = _pairs([(names.get(lang) or names["fi"], n) for names, n in report.by_category], t)
    topics = _pairs([(names.get(lang) or names["fi"], n) for _c, names, n in report.by_topic], t)
    texts = money_texts(report.summary, t)
    money_lines = t(
        "desk.report.money_none" if report.summary.budget is None else "desk.report.money",
        budget=texts["budget"],
        estimated=money(report.estimated, t),
        committed=texts["committed"],
        actual=texts["spent"],
        remaining=texts["remaining"],
    )
    share = report.writeup_share
    writeups = (
        t("desk.report.writeups", share=_num(share, t), count=report.with_writeup, happened=report.happened)
        if share is not None
        else t("desk.report.writeups_none")
    )
    days = (
        t(
            "desk.report.days",
            median=_num(report.median_days, t),
            mean=_num(report.mean_days, t),
            count=len(report.days_to_confirm),
        )
        if report.days_to_confirm
        else t("desk.report.days_none")
    )
    title = t("desk.report.title", year=report.year, region=report.region_name)
    blocks: list[b.Block] = [
        b.header(title),
        b.section(
            t("desk.report.total", count=report.total)
            + "\n"
            + t("desk.report.travellers", count=report.travellers)
            + "\n"
            + t("desk.report.library_visits", count=report.library_visits)
            + "\n"
            + t("desk.report.not_happened", count=report.not_happened)
        ),
        b.fields(
            f"*{t('desk.report.by_status')}*\n{statuses}", f"*{t('desk.report.by_category')}*\n{categories}"
        ),
        b.section(f"*{t('desk.report.by_topic')}*\n{topics}"),
        b.fields(
            f"*{t('desk.report.by_host')}*\n{_pairs(report.by_host, t)}",
            f"*{t('desk.report.by_municipality')}*\n{_pairs(report.by_municipality, t)}",
        ),
        b.section(money_lines),
        b.section(f"{writeups}\n{days}"),
        b.context(files_note if files_note is not None else t("desk.report.csv_note")),
    ]
    return b.message(title, blocks)


CSV_WORDS = (
    "summary",
    "region",
    "year",
    "total",
    "travellers",
    "library_visits",
    "status",
    "category",
    "topic",
    "host",
    "municipality",
    "money",
    "budget",
    "estimated",
    "committed",
    "actual",
    "remaining",
    "writeups",
    "happened",
    "not_happened",
    "with_writeup",
    "nothing_happened",
    "days",
    "median",
    "mean",
    "month",
)
CHART_WORDS = (
    "visits",
    "visits_axis",
    "going",
    "cancelled",
    "declined",
    "spend",
    "budget",
    "money",
)


def csv_labels(t: Translator, *, year: int, region: str = "") -> dict[str, str]:
    """Every word of the report's CSV and chart, in the reader's language."""
    from services.money.report_files import COLUMNS

    labels = {f"column.{c}": t(f"desk.csv.column.{c}") for c in COLUMNS}
    labels.update({k: t(f"desk.csv.{k}") for k in CSV_WORDS})
    labels["no_budget"] = t("desk.budget.no_budget", year=year)
    labels.update({f"status.{s.value}": t(f"visits.status.{s.value}") for s in VisitStatus})
    for k in CHART_WORDS:
        labels[f"chart.{k}"] = t(f"desk.chart.{k}")
    labels["chart.no_budget"] = t("desk.budget.no_budget", year=year)
    labels["chart.title"] = t("desk.report.title", year=year, region=region)
    labels["chart.empty"] = t("desk.chart.empty", year=year)
    locale = LOCALES.get(t.lang, "fi_FI")
    labels["chart.locale"] = locale
    for number, name in get_month_names("abbreviated", context="stand-alone", locale=locale).items():
        labels[f"month.{number}"] = name
    return labels


def today_text(day: date, t: Translator) -> str:
    return day_text(day, t)

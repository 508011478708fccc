"""The report's chart as a coordinator would show it to their board (issue 21): whole-number
visit ticks, the months' names in the reader's language, legends that cover no plot, the
declined and cancelled visits drawn (and named in the legend), and an empty year said in words
instead of an axis from -0.04 to 0.04."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.dates import get_month_names
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import LANGUAGES, translator
from bot.views.desk import csv_labels
from services.money import report_files, reports
from services.money.budget import BudgetSummary
from tests.desk_support import region_id
from tests.unit.test_desk import HELSINKI, NOW, _fixed_data_set

YEAR = NOW.year
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_IE"}


def _largest(year: int) -> reports.Report:
    """Every month busy, every status, the spend going over the budget."""
    going = [3, 5, 9, 14, 18, 22, 6, 4, 19, 24, 17, 8]
    cancelled = [0, 1, 1, 2, 3, 1, 0, 0, 2, 4, 1, 1]
    declined = [1, 0, 2, 1, 2, 3, 1, 0, 1, 2, 2, 0]
    return reports.Report(
        year=year,
        region_name="Savon AKE",
        summary=BudgetSummary(1, year, Decimal("8000.00"), Decimal("5200.00"), Decimal("3000.00")),
        total=sum(going) + sum(cancelled) + sum(declined),
        per_month=going,
        cancelled_per_month=cancelled,
        declined_per_month=declined,
        spend_per_month=[Decimal(61 * n) for n in going],
    )


def _drawn(report: reports.Report, lang: str) -> tuple[Figure, dict[str, str]]:
    labels = csv_labels(translator(lang), year=report.year, region=report.region_name)
    figure = report_files.chart_figure(report, labels)
    FigureCanvasAgg(figure).draw()  # lays out the legends and the ticks as the PNG has them
    return figure, labels


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_largest_chart(lang: str) -> None:
    figure, labels = _drawn(_largest(YEAR), lang)
    visits, spend = figure.axes
    assert all(float(tick).is_integer() for tick in visits.get_yticks())  # no 0.2 visits
    names = list(get_month_names("abbreviated", context="stand-alone", locale=LOCALES[lang]).values())
    for axes in (visits, spend):
        assert [label.get_text() for label in axes.get_xticklabels()] == names
    legend_texts = [text.get_text() for text in visits.get_legend().get_texts()]
    assert legend_texts == [labels["chart.going"], labels["chart.cancelled"], labels["chart.declined"]]
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    renderer = canvas.get_renderer()
    for axes in (visits, spend):
        legend = axes.get_legend().get_window_extent(renderer)
        for other in (visits, spend):
            assert not legend.overlaps(other.get_window_extent(renderer)), "a legend covers a plot"
    png = report_files.chart_png(_largest(YEAR), labels)
    assert png.startswith(b"\x89PNG")


def test_an_empty_year_says_so(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    report = reports.report(sf, region_id(sf), YEAR, today=date(YEAR, 4, 1), tz=HELSINKI)
    assert report.total == 0
    figure, labels = _drawn(report, "en")
    (axes,) = figure.axes
    assert not axes.axison  # no axis from -0.04 to 0.04
    assert [text.get_text() for text in axes.texts] == [f"No visits yet in {YEAR}"] == [labels["chart.empty"]]


def test_the_data_sets_chart_shows_declined_and_cancelled(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    _fixed_data_set(sf)  # March: one agreed and one declined; April: one cancelled
    report = reports.report(sf, region_id(sf), YEAR, today=date(YEAR, 4, 1), tz=HELSINKI)
    assert report.declined_per_month[2] == 1 and report.cancelled_per_month[3] == 1
    figure, _labels = _drawn(report, "fi")
    visits = figure.axes[0]
    heights = [round(patch.get_height()) for patch in visits.patches]
    assert sum(heights) == report.total == 5  # every visit of the year is drawn, whatever its status

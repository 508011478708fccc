"""One budget truth (issue 21): the funding card, the coordinator's desk and the yearly report
(its message and its CSV) read budget, committed, spent and remaining from one summary and agree
to the cent, with a budget and without one (then each says "no budget set for 2027" instead of
a number); and the CSV's columns hold what their headers say, in every row kind."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import LANGUAGES, translator
from bot.views.desk import csv_labels, home_section, report_message
from bot.views.formatting import money
from bot.views.visit import visit_message
from models import Budget, VisitStatus
from services.money import budget, report_files, reports
from services.visits import visit_card
from tests.desk_support import COORD, add_visit, region_id, topics
from tests.unit.test_desk import HELSINKI, NOW, _fixed_data_set

YEAR = NOW.year
TODAY = date(YEAR, 4, 1)  # derived from the tests' clock, never from the machine's


def _texts(node: Any) -> list[str]:
    """Every text a person reads in a message or blocks."""
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [
            s for k, v in node.items() if k != "text" or not isinstance(v, str) for s in _texts(v)
        ]
    if isinstance(node, list):
        return [s for item in node for s in _texts(item)]
    return []


def _pending_funding_visit(sf: sessionmaker[Session]) -> int:
    with sf.begin() as s:
        visit = add_visit(
            s,
            home="iisalmi",
            host="joroinen",
            topic=topics(s)["A2"],
            status=VisitStatus.PROPOSED,
            day=date(YEAR, 9, 15),
            created=datetime(YEAR, 3, 1, 10, tzinfo=NOW.tzinfo),
        )
        return visit.id


def _three_places(sf: sessionmaker[Session], lang: str) -> dict[str, str]:
    """The money as the funding card, the desk and the report's message and CSV write it."""
    t = translator(lang)
    visit_id = _pending_funding_visit(sf)
    with sf() as s:
        card = visit_card.read_card(s, visit_card.load(s, visit_id))
    funding = visit_message(card, "funding", t, today=TODAY, reader=COORD)
    desk = home_section(reports.overview(sf, region_id(sf), today=TODAY), t, command="/vertais")
    report = reports.report(sf, region_id(sf), YEAR, today=TODAY, tz=HELSINKI)
    rows = list(
        csv.reader(
            io.StringIO(report_files.to_csv(report, lang, csv_labels(t, year=YEAR)).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    labels = csv_labels(t, year=YEAR)
    money_rows = {row[1]: row for row in rows if row[0] == labels["money"]}
    return {
        "funding": "\n".join(_texts(funding)),
        "desk": "\n".join(_texts(desk)),
        "report": "\n".join(_texts(report_message(report, t))),
        "csv.committed": money_rows[labels["committed"]][7],
        "csv.spent": money_rows[labels["actual"]][7],
        "csv.remaining": money_rows[labels["remaining"]][7],
        "csv.remaining.detail": money_rows[labels["remaining"]][2],
        "csv.budget": money_rows[labels["budget"]][7],
    }


def _amount_after(label: str, text: str) -> str | None:
    found = re.search(rf"\*{label}:\* ([^·\n*]+)", text)
    return found.group(1).strip() if found else None


@pytest.mark.parametrize("with_budget", [True, False], ids=["budget", "no-budget"])
def test_funding_card_desk_and_report_agree_on_the_money(
    session_factory: sessionmaker[Session], with_budget: bool
) -> None:
    sf = session_factory
    _fixed_data_set(sf)  # budget 1000; committed 350 (two visits); spent 250 (one settled visit)
    if not with_budget:
        with sf.begin() as s:
            s.execute(delete(Budget))
    t = translator("en")
    places = _three_places(sf, "en")
    truth = budget.summary(sf, region_id(sf), YEAR)
    assert (truth.committed, truth.spent) == (Decimal("350.00"), Decimal("250.00"))
    committed, spent = money(truth.committed, t), money(truth.spent, t)
    for place in ("funding", "desk", "report"):
        text = places[place]
        assert _amount_after("Committed", text) == committed, place
        assert (_amount_after("Spent", text) or _amount_after("Actual costs", text)) == spent, place
    assert (places["csv.committed"], places["csv.spent"]) == ("350,00", "250,00")
    if with_budget:
        assert truth.remaining == Decimal("400.00")
        for place in ("funding", "desk", "report"):
            assert _amount_after("Remaining", places[place]) == money(Decimal("400.00"), t) == "€400.00", (
                place
            )
        assert (places["csv.budget"], places["csv.remaining"]) == ("1000,00", "400,00")
    else:
        assert truth.remaining is None and truth.budget is None
        for place in ("funding", "desk", "report"):
            text = places[place]
            assert f"No budget set for {YEAR}" in text, place
            assert _amount_after("Remaining", text) is None, place  # no number where none was decided
            assert not re.search(r"-\s?€|€\s?-|−", text), place  # no negative "remaining" anywhere
        assert (places["csv.budget"], places["csv.remaining"]) == ("", "")
        assert places["csv.remaining.detail"] == f"No budget set for {YEAR}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_budget_is_said_in_every_language(session_factory: sessionmaker[Session], lang: str) -> None:
    sf = session_factory
    places = _three_places(sf, lang)
    phrase = translator(lang)("desk.budget.no_budget", year=YEAR)
    assert str(YEAR) in phrase and not phrase.startswith("desk.")
    for place in ("funding", "desk", "report"):
        assert phrase in places[place], (lang, place)
    assert places["csv.remaining.detail"] == phrase


# --- The CSV: every column holds what its header says ---------------------------------------------
WHOLE = re.compile(r"^\d+$")
ONE_DECIMAL = re.compile(r"^\d+,\d$")
EUROS = re.compile(r"^-?\d+,\d\d$")


def _csv_rows(sf: sessionmaker[Session], lang: str, today: date) -> tuple[list[list[str]], dict[str, str]]:
    t = translator(lang)
    labels = csv_labels(t, year=YEAR, region="Savo")
    report = reports.report(sf, region_id(sf), YEAR, today=today, tz=HELSINKI)
    data = report_files.to_csv(report, lang, labels)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";")), labels


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", ["full", "empty"])
def test_every_csv_column_holds_what_its_header_says(
    session_factory: sessionmaker[Session], lang: str, case: str
) -> None:
    sf = session_factory
    if case == "full":
        _fixed_data_set(sf)
    rows, labels = _csv_rows(sf, lang, TODAY)
    header, body = rows[0], rows[1:]
    assert header == [labels[f"column.{c}"] for c in report_files.COLUMNS]
    col = {name: i for i, name in enumerate(report_files.COLUMNS)}
    assert all(len(row) == len(header) for row in body)
    kinds = {row[0] for row in body}
    expected = {"summary", "status", "money", "writeups", "days", "month"}
    if case == "full":
        expected |= {"category", "topic", "host", "municipality"}
    assert kinds == {labels[k] for k in expected}
    for row in body:
        assert row[col["item"]], row
        # detail: text, never a number dressed as one (a median, a count, a share)
        detail = row[col["detail"]]
        assert not ONE_DECIMAL.match(detail) and not EUROS.match(detail), row
        assert row[col["visits"]] == "" or WHOLE.match(row[col["visits"]]), row
        assert row[col["people"]] == "" or WHOLE.match(row[col["people"]]), row
        assert row[col["days"]] == "" or ONE_DECIMAL.match(row[col["days"]]), row
        assert row[col["percent"]] == "" or ONE_DECIMAL.match(row[col["percent"]]), row
        assert row[col["euros"]] == "" or EUROS.match(row[col["euros"]]), row
        if detail and WHOLE.match(detail):
            assert row[col["item"]] == labels["year"] and detail == str(YEAR), row  # only the year
    by_item = {(row[0], row[1]): row for row in body}

    def cells(section: str, item: str) -> dict[str, str]:
        row = by_item[(labels[section], labels[item] if item in labels else item)]
        return {name: row[i] for name, i in col.items() if row[i] and name not in ("section", "item")}

    assert set(cells("summary", "region")) == {"detail"}  # the region's name
    assert cells("summary", "year") == {"detail": str(YEAR)}  # not in the visits column
    if case == "full":
        assert cells("summary", "total") == {"visits": "5"}
        assert cells("summary", "travellers") == {"people": "3"}  # the proposed and agreed visits
        assert cells("days", "median") == {"visits": "2", "days": "7,0"}  # not "7,00" in detail
        assert cells("days", "mean") == {"visits": "2", "days": "7,0"}
        assert cells("writeups", "happened") == {"visits": "1"}
        assert cells("writeups", "with_writeup") == {"visits": "0", "percent": "0,0"}
        assert cells("money", "remaining") == {"euros": "400,00"}
        month = cells("month", f"{YEAR}-03")
        assert month == {"detail": labels["month.3"], "visits": "1", "euros": "250,00"}
    else:
        assert cells("summary", "total") == {"visits": "0"}
        assert cells("summary", "travellers") == {"people": "0"}
        # Nothing has happened: no share of 0, and the detail says why.
        assert cells("writeups", "with_writeup") == {"visits": "0", "detail": labels["nothing_happened"]}
        assert cells("days", "median") == {"visits": "0"}
        assert cells("money", "remaining") == {"detail": labels["no_budget"]}
        assert cells("money", "committed") == {"euros": "0,00"}


def test_the_write_up_share_is_no_number_before_any_visit_has_happened(
    session_factory: sessionmaker[Session],
) -> None:
    sf = session_factory
    _fixed_data_set(sf)
    t = translator("fi")
    before = reports.report(sf, region_id(sf), YEAR, today=date(YEAR, 3, 1), tz=HELSINKI)  # nothing yet
    assert (before.happened, before.writeup_share) == (0, None)
    text = "\n".join(_texts(report_message(before, t)))
    assert t("desk.report.writeups_none") in text and "0 %" not in text
    after = reports.report(sf, region_id(sf), YEAR, today=date(YEAR, 12, 31), tz=HELSINKI)
    assert (after.happened, after.with_writeup, after.writeup_share) == (2, 0, Decimal("0.0"))
    assert "*Kuvaukset:* 0,0 % (0/2" in "\n".join(_texts(report_message(after, t)))  # Babel's comma


def test_the_report_counts_days_in_the_configured_timezone(session_factory: sessionmaker[Session]) -> None:
    """A visit proposed at 23:30 UTC on 1 Feb is proposed on 2 Feb in Helsinki: the TIMEZONE
    setting, not a hard-coded zone, decides how many days its confirmation took."""
    sf = session_factory
    with sf.begin() as s:
        add_visit(
            s,
            home="iisalmi",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(YEAR, 3, 10),
            funded="100.00",
            created=datetime(YEAR, 2, 1, 23, 30, tzinfo=NOW.tzinfo),
            confirmed_at=datetime(YEAR, 2, 5, 12, 0, tzinfo=NOW.tzinfo),
        )
    utc = reports.report(sf, region_id(sf), YEAR, today=TODAY, tz=ZoneInfo("UTC"))
    helsinki = reports.report(sf, region_id(sf), YEAR, today=TODAY, tz=HELSINKI)
    assert (utc.days_to_confirm, helsinki.days_to_confirm) == ([4], [3])

"""Reading the closed periods a host types on its offer form."""

from __future__ import annotations

from datetime import date

import pytest

from services.catalogue.closed_periods import MAX_PERIODS, Period, parse

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("line", "period"),
    [
        ("1.7.2027–31.7.2027 kesäsulku", Period(date(2027, 7, 1), date(2027, 7, 31), "kesäsulku")),
        ("1.7.–31.7.2027 kesäsulku", Period(date(2027, 7, 1), date(2027, 7, 31), "kesäsulku")),
        ("1.7.2027 - 31.7.2027", Period(date(2027, 7, 1), date(2027, 7, 31))),
        ("24.12.2026 jouluaatto", Period(date(2026, 12, 24), date(2026, 12, 24), "jouluaatto")),
        (
            "2027-03-01 — 2027-03-19   remontti  ja   muutto",
            Period(date(2027, 3, 1), date(2027, 3, 19), "remontti ja muutto"),
        ),
        ("20.11.2026–30.11.2026 inventaario", Period(date(2026, 11, 20), date(2026, 11, 30), "inventaario")),
        ("20.12.–6.1.2028 joulu", Period(date(2027, 12, 20), date(2028, 1, 6), "joulu")),  # over New Year
    ],
)
def test_a_line_is_read_the_ways_people_write_it(line: str, period: Period) -> None:
    assert parse(line, today=TODAY) == ([period], None)
    assert parse(period.line(), today=TODAY) == ([period], None)  # what the form shows reads back


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("heinäkuu", "offer.error.closed_line"),
        ("31.2.2027", "offer.error.closed_line"),
        ("1.7.–31.7.", "offer.error.closed_line"),  # no year anywhere
        ("31.7.2027–1.7.2027", "offer.error.closed_backwards"),
        ("1.11.2026–20.11.2026", "offer.error.closed_past"),
        ("1.1.2027–2.1.2028", "offer.error.closed_long"),
    ],
)
def test_a_bad_line_is_named(text: str, key: str) -> None:
    periods, problem = parse(f"24.12.2026\n\n{text}", today=TODAY)
    assert periods == [] and problem == (key, {"line": 3})


def test_empty_and_too_many() -> None:
    assert parse("  \n", today=TODAY) == ([], None)
    _, problem = parse("\n".join(["24.12.2026"] * (MAX_PERIODS + 1)), today=TODAY)
    assert problem is not None and problem[0] == "offer.error.closed_too_many"


def test_the_longest_form_fits_its_field() -> None:
    from services.catalogue.closed_periods import MAX_REASON, MAX_TEXT

    longest = Period(date(2027, 12, 10), date(2027, 12, 31), "ö" * MAX_REASON)
    assert len("\n".join([longest.line()] * MAX_PERIODS)) <= MAX_TEXT
    _, problem = parse(f"24.12.2026 {'x' * (MAX_REASON + 1)}", today=TODAY)
    assert problem == ("offer.error.closed_reason", {"line": 1, "max": MAX_REASON})

"""The coordinator's desk through its services: budget arithmetic, the rate table, actual costs,
travel invoices, the yearly report (numbers checked by hand), its CSV and chart, and forgetting
a person."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import translator
from bot.views.desk import csv_labels, report_message
from bot.views.limits import check_message
from models import (
    AuditEntry,
    Budget,
    KilometreRate,
    Library,
    StaffProfile,
    TopicSuggestion,
    Visit,
    VisitCost,
    VisitStatus,
)
from services.admin import personal_data
from services.admin.appointments import add_coordinator
from services.common.errors import InvalidInput, NotAllowed
from services.money import budget, costs, report_files, reports, travel_invoices
from services.people.coordinators import CoordinatorDirectory
from tests.desk_support import COORD, STRANGER, add_visit, lib, region_id, topics

NOW = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")


def _set_budget(
    sf: sessionmaker[Session], amount: str, *, year: str = "2027", replace: bool = False, who: str = COORD
) -> budget.BudgetSummary:
    return budget.set_budget(
        sf,
        actor=who,
        is_coordinator=who == COORD,
        region_id=region_id(sf),
        year_text=year,
        amount_text=amount,
        replace=replace,
        now=NOW,
    )


def _summary(sf: sessionmaker[Session], year: int = 2027) -> tuple[Decimal | None, Decimal, Decimal, Decimal]:
    s = budget.summary(sf, region_id(sf), year)
    return s.budget, s.committed, s.spent, s.remaining


def test_budget_through_a_year_of_visits(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    assert _set_budget(sf, "5 000,00").budget == Decimal("5000.00")
    with sf.begin() as s:
        tp = topics(s)
        v1 = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="300.00",
        ).id
        v2 = add_visit(
            s,
            home="iisalmi",
            host="kaavi",
            topic=tp["B1"],
            status=VisitStatus.PROPOSED,
            day=date(2027, 5, 1),
            funded="200.00",
        ).id
        # Funding not yet approved: nothing committed.
        add_visit(
            s, home="iisalmi", host="kaavi", topic=tp["B1"], status=VisitStatus.PROPOSED, day=date(2027, 6, 1)
        )
        # Declined, another year, another region's visitor: none of them count.
        add_visit(
            s,
            home="iisalmi",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.DECLINED,
            day=date(2027, 2, 1),
        )
        add_visit(
            s,
            home="iisalmi",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2026, 12, 30),
            funded="400.00",
        )
    # committed = 300 + 200; spent = 0; remaining = 5000 - 500
    assert _summary(sf) == (Decimal("5000.00"), Decimal("500.00"), Decimal("0.00"), Decimal("4500.00"))

    # Settle v1: 100 km x 0.55 (2027 has no rate of its own: 2026's) + 40 tickets = 95.00 spent.
    actual = costs.record_actuals(
        sf,
        v1,
        actor=COORD,
        is_coordinator=True,
        km_text="100",
        tickets_text="40",
        accommodation_text="",
        now=NOW,
    )
    assert (actual.kilometre_allowance, actual.total) == (Decimal("55.00"), Decimal("95.00"))
    assert _summary(sf) == (Decimal("5000.00"), Decimal("200.00"), Decimal("95.00"), Decimal("4705.00"))

    # Cancelling v2 releases its commitment.
    with sf.begin() as s:
        visit = s.get(Visit, v2)
        assert visit is not None
        visit.status = VisitStatus.CANCELLED
    assert _summary(sf) == (Decimal("5000.00"), Decimal("0.00"), Decimal("95.00"), Decimal("4905.00"))
    # The 2026 visit is 2026's commitment.
    assert _summary(sf, 2026)[1] == Decimal("400.00")

    # Correcting the actuals replaces them, not adds.
    costs.record_actuals(
        sf,
        v1,
        actor=COORD,
        is_coordinator=True,
        km_text="0",
        tickets_text="80,50",
        accommodation_text="",
        now=NOW,
    )
    assert _summary(sf)[2] == Decimal("80.50")


def test_setting_a_years_budget_twice_says_it_replaces_the_old(
    session_factory: sessionmaker[Session],
) -> None:
    sf = session_factory
    _set_budget(sf, "5000")
    with pytest.raises(InvalidInput) as caught:
        _set_budget(sf, "6000")
    key, params = caught.value.fields["amount"]
    assert key == "desk.budget.replaces" and params["old"] == "5000.00" and params["year"] == 2027
    assert _summary(sf)[0] == Decimal("5000.00")
    assert _set_budget(sf, "6000", replace=True).budget == Decimal("6000.00")
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(Budget)) == 1
        actions = [a.details for a in s.scalars(select(AuditEntry).where(AuditEntry.action == "budget.set"))]
    assert actions[-1]["replaced"] == "5000.00"


@pytest.mark.parametrize(
    ("year", "amount", "field"),
    [
        ("2027", "-5", "amount"),
        ("2027", "abc", "amount"),
        ("2027", "", "amount"),
        ("27", "100", "year"),
        ("2027", "99999999", "amount"),
    ],
)
def test_bad_budgets_are_refused(
    session_factory: sessionmaker[Session], year: str, amount: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _set_budget(session_factory, amount, year=year)
    assert field in caught.value.fields
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Budget)) == 0


def test_only_coordinators_set_budgets_rates_and_costs(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    with sf.begin() as s:
        vid = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="300",
        ).id
    with sf() as s:
        audited = s.scalar(select(func.count()).select_from(AuditEntry))
    calls = [
        lambda: _set_budget(sf, "100", who=STRANGER),
        lambda: costs.set_rate(
            sf, actor=STRANGER, is_coordinator=False, year_text="2027", rate_text="0.6", now=NOW
        ),
        lambda: costs.record_actuals(
            sf,
            vid,
            actor=STRANGER,
            is_coordinator=False,
            km_text="1",
            tickets_text="",
            accommodation_text="",
            now=NOW,
        ),
        lambda: costs.tickets_bought(sf, vid, actor=STRANGER, is_coordinator=False, now=NOW),
        lambda: travel_invoices.mark_received(sf, vid, actor=STRANGER, is_coordinator=False, now=NOW),
        lambda: add_coordinator(
            sf, actor=STRANGER, is_coordinator=False, user_id=STRANGER, region_id=region_id(sf), now=NOW
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed) as caught:
            call()
        assert caught.value.key == "desk.only_coordinators"
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(VisitCost)) == 0
        assert s.scalar(select(func.count()).select_from(KilometreRate)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_the_rate_of_the_travel_dates_year_across_a_new_year(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    table = costs.set_rate(sf, actor=COORD, is_coordinator=True, year_text="2027", rate_text="0,60", now=NOW)
    # The shipped years are kept when the table is first edited.
    assert table == {
        2024: Decimal("0.570"),
        2025: Decimal("0.590"),
        2026: Decimal("0.550"),
        2027: Decimal("0.600"),
    }
    with sf.begin() as s:
        tp = topics(s)
        before = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2026, 12, 31),
            funded="66",
        ).id
        after = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 1, 1),
            funded="60",
        ).id
        assert costs.rate_on(s, date(2026, 12, 31)) == Decimal("0.55")
        assert costs.rate_on(s, date(2027, 1, 1)) == Decimal("0.6")
    a = costs.record_actuals(
        sf,
        before,
        actor=COORD,
        is_coordinator=True,
        km_text="120",
        tickets_text="",
        accommodation_text="",
        now=NOW,
    )
    b = costs.record_actuals(
        sf,
        after,
        actor=COORD,
        is_coordinator=True,
        km_text="120",
        tickets_text="",
        accommodation_text="",
        now=NOW,
    )
    assert (a.kilometre_allowance, b.kilometre_allowance) == (Decimal("66.00"), Decimal("72.00"))
    assert isinstance(a.kilometre_allowance, Decimal)
    # Changing a year's rate later does not rewrite recorded actuals.
    costs.set_rate(sf, actor=COORD, is_coordinator=True, year_text="2027", rate_text="0.61", now=NOW)
    with sf() as s:
        row = s.get(VisitCost, after)
        assert row is not None and row.actual_km_allowance == Decimal("72.00")


@pytest.mark.parametrize(
    ("rate", "year"), [("2.01", "2027"), ("-0.5", "2027"), ("0", "2027"), ("x", "2027"), ("0.5", "1999")]
)
def test_absurd_rates_are_refused(session_factory: sessionmaker[Session], rate: str, year: str) -> None:
    with pytest.raises(InvalidInput):
        costs.set_rate(
            session_factory, actor=COORD, is_coordinator=True, year_text=year, rate_text=rate, now=NOW
        )
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(KilometreRate)) == 0


@pytest.mark.parametrize(
    ("km", "tickets", "accommodation", "field"),
    [
        ("-5", "", "", "km"),
        ("", "100000", "", "tickets"),
        ("", "", "-1", "accommodation"),
        ("5000", "", "", "km"),
        ("", "1e3", "", None),
    ],
)
def test_absurd_actual_costs_are_refused(
    session_factory: sessionmaker[Session], km: str, tickets: str, accommodation: str, field: str | None
) -> None:
    sf = session_factory
    with sf.begin() as s:
        vid = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="300",
        ).id
    if field is None:  # "1e3" is a number Decimal reads: 1000 euros is allowed
        costs.record_actuals(
            sf,
            vid,
            actor=COORD,
            is_coordinator=True,
            km_text=km,
            tickets_text=tickets,
            accommodation_text=accommodation,
            now=NOW,
        )
        return
    with pytest.raises(InvalidInput) as caught:
        costs.record_actuals(
            sf,
            vid,
            actor=COORD,
            is_coordinator=True,
            km_text=km,
            tickets_text=tickets,
            accommodation_text=accommodation,
            now=NOW,
        )
    assert set(caught.value.fields) == {field}
    with sf() as s:
        assert s.get(VisitCost, vid) is None


def test_distance_from_coordinates_when_the_visitor_gave_no_km(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as s:
        visit = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.PROPOSED,
            day=date(2027, 3, 10),
            km="0",
        )
        from services.catalogue.libraries import distance_km

        one_way = distance_km(lib(s, "kuopio-paakirjasto"), lib(s, "joroinen"))
        km = costs.km_of(s, visit)
        assert isinstance(km, Decimal)
        assert km == Decimal(round(2 * 1.2 * one_way))  # round trip, roads 1.2 x the straight line
        assert 150 < km < 300  # Kuopio-Joroinen is about 75 km as the crow flies
        visit.estimated_km = Decimal("40")
        assert costs.km_of(s, visit) == Decimal("40")
        visit.estimated_km, visit.travel_mode = Decimal("0"), "public"
        assert costs.km_of(s, visit) == Decimal("0")


def test_travel_invoice_status(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    with sf.begin() as s:
        tp = topics(s)
        car = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="300",
        ).id
        train = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="30",
            travel_mode="public",
        ).id
        pending = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.PROPOSED,
            day=date(2027, 3, 10),
        ).id
    with sf() as s:
        assert travel_invoices.invoice_outstanding(s, car)
        assert not travel_invoices.invoice_outstanding(s, train)
        assert not travel_invoices.invoice_outstanding(s, pending)
        assert not travel_invoices.invoice_outstanding(s, 9999)
    assert travel_invoices.mark_received(sf, car, actor=COORD, is_coordinator=True, now=NOW)[0]
    assert not travel_invoices.mark_received(sf, car, actor=COORD, is_coordinator=True, now=NOW)[0]
    with sf() as s:
        assert not travel_invoices.invoice_outstanding(s, car)
        assert travel_invoices.invoice_status(s, car) == "received"
    changed, _ = travel_invoices.set_status(
        sf, car, travel_invoices.InvoiceStatus.PAID, actor=COORD, is_coordinator=True, now=NOW
    )
    assert (
        changed and not travel_invoices.mark_received(sf, car, actor=COORD, is_coordinator=True, now=NOW)[0]
    )


def test_tickets_bought_once(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    with sf.begin() as s:
        vid = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=topics(s)["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="30",
            travel_mode="public",
        ).id
    assert costs.tickets_bought(sf, vid, actor=COORD, is_coordinator=True, now=NOW) == (True, COORD)
    assert costs.tickets_bought(sf, vid, actor="U0OTHER", is_coordinator=True, now=NOW) == (False, COORD)


def test_coordinators_added_in_the_bot_with_a_short_cache(session_factory: sessionmaker[Session]) -> None:
    clock = [0.0]
    directory = CoordinatorDirectory(
        session_factory, ["U0COORD"], default_region_key="savo", ttl=30, monotonic=lambda: clock[0]
    )
    assert directory.is_coordinator("U0COORD") and not directory.is_coordinator("U0NEW")
    assert directory.region_of("U0COORD") == region_id(session_factory)
    assert add_coordinator(
        session_factory,
        actor=COORD,
        is_coordinator=True,
        user_id="U0NEW",
        region_id=region_id(session_factory),
        now=NOW,
    )
    assert not directory.is_coordinator("U0NEW")  # cached for up to 30 s ...
    clock[0] = 31
    assert directory.is_coordinator("U0NEW")  # ... then read again
    assert directory.region_of("U0NEW") == region_id(session_factory)


# --- The report on a fixed data set ------------------------------------------------------------
def _fixed_data_set(sf: sessionmaker[Session]) -> dict[str, int]:
    _set_budget(sf, "1000")
    with sf.begin() as s:
        tp = topics(s)
        v1 = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 3, 10),
            funded="300.00",
            created=datetime(2027, 2, 1, 10, tzinfo=UTC),
            confirmed_at=datetime(2027, 2, 5, 9, tzinfo=UTC),
        )
        v2 = add_visit(
            s,
            home="kuopio-jynkka",
            host="joroinen",
            topic=tp["A2"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 5, 20),
            funded="200.00",
            created=datetime(2027, 4, 1, 10, tzinfo=UTC),
            confirmed_at=datetime(2027, 4, 11, 9, tzinfo=UTC),
        )
        v3 = add_visit(
            s,
            home="iisalmi",
            host="kaavi",
            topic=tp["B1"],
            status=VisitStatus.PROPOSED,
            day=date(2027, 6, 1),
            funded="150.00",
        )
        add_visit(
            s,
            home="iisalmi",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.DECLINED,
            day=date(2027, 3, 1),
        )
        add_visit(
            s,
            home="kuopio-paakirjasto",
            host="kaavi",
            topic=tp["B1"],
            status=VisitStatus.CANCELLED,
            day=date(2027, 4, 15),
            funded="120.00",
        )
        add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2026, 12, 1),
            funded="999.00",
        )  # another year
        s.add(
            VisitCost(
                visit_id=v1.id,
                actual_km=Decimal("0"),
                actual_km_allowance=Decimal("0"),
                actual_tickets=Decimal("250.00"),
                actual_accommodation=Decimal("0"),
                settled_by=COORD,
                settled_at=NOW,
            )
        )
        return {"v1": v1.id, "v2": v2.id, "v3": v3.id}


def test_report_numbers_on_a_fixed_data_set(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    _fixed_data_set(sf)
    r = reports.report(sf, region_id(sf), 2027, today=date(2027, 4, 1), tz=HELSINKI)
    with sf() as s:
        tp = topics(s)
        names = {k: v.name_fi for k, v in tp.items()}
    assert r.total == 5
    assert r.by_status == {"proposed": 1, "confirmed": 2, "declined": 1, "cancelled": 1}
    assert [(n["fi"], c) for _cat, n, c in r.by_topic] == sorted(
        [(names["A1"], 2), (names["B1"], 2), (names["A2"], 1)], key=lambda x: (-x[1], x[0])
    )
    assert [c for _names, c in r.by_category] == [3, 2]
    assert r.by_host == [("Joroisten kirjasto", 3), ("Kaavin kirjasto", 2)]
    assert r.by_municipality == [("Kuopio", 3), ("Iisalmi", 2)]
    # Money: budget 1000; committed v2 200 + v3 150; spent v1 250; estimates 300+200+150.
    assert (r.budget, r.committed, r.actual, r.estimated, r.remaining) == (
        Decimal("1000.00"),
        Decimal("350.00"),
        Decimal("250.00"),
        Decimal("650.00"),
        Decimal("400.00"),
    )
    assert r.per_month == [0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert r.spend_per_month[2:6] == [
        Decimal("250.00"),
        Decimal("0.00"),
        Decimal("200.00"),
        Decimal("150.00"),
    ]
    # Only v1 has taken place (v2 is in May); the write-up stub says none yet.
    assert (r.happened, r.with_writeup, r.writeup_share) == (1, 0, Decimal("0.0"))
    # v1: 1 Feb -> 5 Feb = 4 days; v2: 1 Apr -> 11 Apr = 10 days.
    assert sorted(r.days_to_confirm) == [4, 10]
    assert (r.median_days, r.mean_days) == (Decimal("7.0"), Decimal("7.0"))


def test_report_uses_has_writeup(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = session_factory
    ids = _fixed_data_set(sf)
    monkeypatch.setattr(reports.writeups, "has_writeup", lambda _s, visit_id: visit_id == ids["v1"])
    r = reports.report(sf, region_id(sf), 2027, today=date(2027, 12, 31), tz=HELSINKI)
    assert (r.happened, r.with_writeup, r.writeup_share) == (2, 1, Decimal("50.0"))


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_report_csv_opens_cleanly_and_message_fits(session_factory: sessionmaker[Session], lang: str) -> None:
    sf = session_factory
    _fixed_data_set(sf)
    r = reports.report(sf, region_id(sf), 2027, today=date(2027, 4, 1), tz=HELSINKI)
    t = translator(lang)
    data = report_files.to_csv(r, lang, csv_labels(t, year=2027))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Finnish letters right
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert all(len(row) == 8 for row in rows)
    flat = "\n".join(";".join(row) for row in rows)
    assert "Joroisten kirjasto" in flat and "Kaavin kirjasto" in flat
    if lang == "fi":
        assert ["talous", "jäljellä", "", "", "", "", "", "400,00"] in rows
        assert ["talous", "toteutuneet kulut", "", "", "", "", "", "250,00"] in rows
        assert ["vierailijan kunta", "Kuopio", "", "3", "", "", "", ""] in rows
        assert ["kuukausi", "2027-03", "maalis", "1", "", "", "", "250,00"] in rows
    message = report_message(r, t)
    check_message(message)
    assert "400" in json.dumps(message, ensure_ascii=False)


def test_report_chart_is_a_png(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    _fixed_data_set(sf)
    r = reports.report(sf, region_id(sf), 2027, today=date(2027, 4, 1), tz=HELSINKI)
    png = report_files.chart_png(r, csv_labels(translator("fi"), year=2027))
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_forget_user_keeps_the_reports_numbers(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    _fixed_data_set(sf)
    with sf.begin() as s:
        s.add(
            StaffProfile(
                slack_user_id="U0VISITOR",
                home_library_id=lib(s, "kuopio-paakirjasto").id,
                display_name="Maija Meikäläinen",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    before = reports.report(sf, region_id(sf), 2027, today=date(2027, 4, 1), tz=HELSINKI)
    exported = personal_data.export(sf, "U0VISITOR", now=NOW)
    assert exported["tables"]["staff_profiles"]["slack_user_id"][0]["display_name"] == "Maija Meikäläinen"
    assert len(exported["tables"]["visits"]["visitor_id"]) == 6
    json.dumps(exported)  # serialisable as it is

    pseudonym, rows = personal_data.forget(sf, "U0VISITOR", now=NOW)
    assert rows >= 7
    after = reports.report(sf, region_id(sf), 2027, today=date(2027, 4, 1), tz=HELSINKI)
    assert after == before
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(StaffProfile)) == 0
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.visitor_id == "U0VISITOR")) == 0
        assert s.scalar(select(func.count()).select_from(Visit).where(Visit.visitor_id == pseudonym)) == 6
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert "person.exported" in actions and "person.forgotten" in actions
        assert s.scalar(select(Library.id).limit(1)) is not None
    assert personal_data.export(sf, "U0VISITOR", now=NOW)["tables"] == {}


def test_a_forgotten_coordinator_leaves_no_trace_in_the_suggestions_dms(
    session_factory: sessionmaker[Session],
) -> None:
    """The record of a suggested topic's DMs names the coordinator each went to: exported with
    their data, dropped when they are forgotten (the other coordinators' stay)."""
    with session_factory.begin() as s:
        suggestion = TopicSuggestion(
            text="Sirkuskoulu",
            suggested_by="U0HOST",
            created_at=NOW,
            messages="D0OLD 1700000000.000100\nD0COORD 1700000000.000200 U0COORD\nD0NORTH 1700000000.000300 U0NORTH",
        )
        s.add(suggestion)
    exported = personal_data.export(session_factory, "U0COORD", now=NOW)
    assert exported["tables"]["topic_suggestions"]["messages"] == [
        {"suggestion_id": suggestion.id, "channel": "D0COORD", "ts": "1700000000.000200"}
    ]
    personal_data.forget(session_factory, "U0COORD", now=NOW)
    with session_factory() as s:
        left = s.get_one(TopicSuggestion, suggestion.id).messages.splitlines()
    assert left == ["D0OLD 1700000000.000100", "D0NORTH 1700000000.000300 U0NORTH"]
    assert "topic_suggestions" not in personal_data.export(session_factory, "U0COORD", now=NOW)["tables"]


def test_desk_overview_lists(session_factory: sessionmaker[Session]) -> None:
    sf = session_factory
    with sf.begin() as s:
        tp = topics(s)
        train = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 2, 10),
            funded="50",
            travel_mode="public",
        ).id
        old_car = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 1, 4),
            funded="50",
        ).id
        recent_car = add_visit(
            s,
            home="kuopio-paakirjasto",
            host="joroinen",
            topic=tp["A1"],
            status=VisitStatus.CONFIRMED,
            day=date(2027, 1, 20),
            funded="50",
        ).id
    data = reports.overview(sf, region_id(sf), today=date(2027, 1, 25))
    assert [line.visit_id for line in data.tickets_to_buy] == [train]
    assert [line.visit_id for line in data.upcoming] == [train]
    assert [line.visit_id for line in data.invoices_to_check] == [old_car, recent_car]
    assert [line.visit_id for line in data.costs_to_record] == [old_car, recent_car]
    assert data.overdue_writeups == 1  # only the visit more than 14 days ago
    costs.tickets_bought(sf, train, actor=COORD, is_coordinator=True, now=NOW)
    travel_invoices.mark_received(sf, old_car, actor=COORD, is_coordinator=True, now=NOW)
    costs.record_actuals(
        sf,
        old_car,
        actor=COORD,
        is_coordinator=True,
        km_text="10",
        tickets_text="",
        accommodation_text="",
        now=NOW,
    )
    data = reports.overview(sf, region_id(sf), today=date(2027, 1, 25))
    assert data.tickets_to_buy == [] and [line.visit_id for line in data.invoices_to_check] == [recent_car]
    assert [line.visit_id for line in data.costs_to_record] == [recent_car]

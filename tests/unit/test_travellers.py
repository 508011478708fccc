"""Travellers in the domain: who consents for whom, the cost of a group (one car, tickets and
nights per traveller), and the report and CSV counting them, in exact euros."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import translator
from bot.views.desk import csv_labels
from models import Library, PartyState, Region, VisitStatus
from services.common.errors import InvalidInput, NotAllowed
from services.money import report_files, reports
from services.visits import state_machine
from services.visits.state_machine import AlreadyDecided
from tests.conftest import HELSINKI_NOON
from tests.unit.test_visits import BOSS, COORD, HOST, VISITOR, decide, propose

PAIR, PAIR_BOSS, THIRD = "U0PAIR", "U0PAIRBOSS", "U0THIRD"


def pays(session_factory: sessionmaker[Session], value: bool = True) -> None:
    with session_factory.begin() as session:
        for region in session.scalars(select(Region)):
            region.pays_passenger_supplement = value


def test_each_supervisor_consents_once_for_their_own_people(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(
        session_factory,
        world,
        colleagues=[PAIR, THIRD],
        colleague_supervisors={PAIR: PAIR_BOSS, THIRD: None},  # THIRD shares the visitor's supervisor
    ).card
    assert [(t.user_id, t.supervisor_id) for t in card.travellers] == [
        (VISITOR, BOSS),
        (PAIR, PAIR_BOSS),
        (THIRD, BOSS),
    ]
    assert card.supervisors == (BOSS, PAIR_BOSS)
    assert card.waits_for_supervisor(BOSS) and card.waits_for_supervisor(PAIR_BOSS)
    with pytest.raises(NotAllowed):
        decide(session_factory, card.id, "supervisor", PAIR)  # a traveller consents for nobody
    once = decide(session_factory, card.id, "supervisor", BOSS)  # for the visitor and THIRD at once
    assert once.card.supervisor_state == PartyState.PENDING
    assert not once.card.waits_for_supervisor(BOSS) and once.card.waits_for_supervisor(PAIR_BOSS)
    with pytest.raises(AlreadyDecided):
        decide(session_factory, card.id, "supervisor", BOSS)
    both = decide(session_factory, card.id, "supervisor", PAIR_BOSS)
    assert both.card.supervisor_state == PartyState.APPROVED
    with pytest.raises(NotAllowed):  # nobody on the trip, nor their supervisors, decides its funding
        state_machine.decide(
            session_factory,
            card.id,
            party="funding",
            approve=True,
            actor=PAIR_BOSS,
            is_coordinator=True,
            now=HELSINKI_NOON,
        )


def test_a_colleague_is_checked_like_the_visitor(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        propose(session_factory, world, colleagues=[f"U0C{n}" for n in range(6)])
    assert refused.value.fields["colleagues"][0] == "visits.error.colleagues_many"
    with pytest.raises(InvalidInput) as refused:
        propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR})
    assert f"colleague_supervisor_{PAIR}" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        propose(session_factory, world, colleagues=[PAIR], unknown_people=frozenset({PAIR}))
    assert refused.value.fields["colleagues"][0] == "visits.error.colleague_unknown"
    brought = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: VISITOR}).card
    assert brought.travellers[1].consent == PartyState.PENDING  # asked, even of a visitor with staff
    assert brought.waits_for_supervisor(VISITOR)


def test_a_group_costs_one_car_and_tickets_and_nights_each_and_the_report_counts_them(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    pays(session_factory)
    # Three in one car, two days: 200 km x (0,55 + 2 x 0,04) = 126,00; parking 5,00 x 3;
    # a night 80,00 x 3; in all 126 + 15 + 240 = 381,00, 127,00 each.
    change = propose(
        session_factory,
        world,
        colleagues=[PAIR, THIRD],
        colleague_supervisors={PAIR: PAIR_BOSS},
        length="two_days",
        dates=[date(2026, 12, 8), None, None],
        km="200",
        tickets="5",
        accommodation="80",
    )
    cost = change.card.cost
    assert (cost.kilometre_allowance, cost.tickets, cost.accommodation) == (
        Decimal("126.00"),
        Decimal("15.00"),
        Decimal("240.00"),
    )
    assert (cost.total, cost.per_traveller, cost.passengers) == (Decimal("381.00"), Decimal("127.00"), 2)
    visit_id = change.card.id
    decide(session_factory, visit_id, "supervisor", BOSS)
    decide(session_factory, visit_id, "supervisor", PAIR_BOSS)
    decide(session_factory, visit_id, "host", HOST, date_id=change.card.visitor_dates[0].id)
    confirmed = decide(session_factory, visit_id, "funding", COORD)
    assert confirmed.card.status == VisitStatus.CONFIRMED

    # One withdraws: two in the car (one passenger), two tickets, two nights: 118 + 10 + 160.
    after = state_machine.withdraw(session_factory, visit_id, actor=THIRD, now=HELSINKI_NOON)
    assert after.card.cost.total == Decimal("288.00") and after.card.status == VisitStatus.CONFIRMED
    with pytest.raises(NotAllowed):
        state_machine.withdraw(session_factory, visit_id, actor=THIRD, now=HELSINKI_NOON)  # once

    with session_factory() as session:
        home = session.get(Library, world["home"])
        assert home is not None
        region_id = home.region_id
    built = reports.report(
        session_factory, region_id, 2026, today=date(2026, 11, 24), tz=ZoneInfo("Europe/Helsinki")
    )
    assert built.travellers == 2 and built.estimated == Decimal("288.00")
    labels = csv_labels(translator("en"), year=2026)
    rows = report_files.to_csv(built, "en", labels).decode("utf-8-sig").splitlines()
    assert "summary;travellers (visitors and colleagues);;;2;;;" in rows
    assert "money;approved estimates;;;;;;288,00" in rows


def test_any_traveller_writes_the_one_write_up_and_the_nags_stop_for_all(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    from datetime import timedelta

    from models import Reminder
    from services.ideas import writeups
    from services.outbox.reminders import DueReminder
    from services.visits import visit_reminders

    change = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR_BOSS})
    visit_id = change.card.id
    decide(session_factory, visit_id, "supervisor", BOSS)
    decide(session_factory, visit_id, "supervisor", PAIR_BOSS)
    decide(session_factory, visit_id, "host", HOST, date_id=change.card.visitor_dates[0].id)
    decide(session_factory, visit_id, "funding", COORD)
    with session_factory() as session:
        nags = session.scalars(select(Reminder).where(Reminder.kind == visit_reminders.WRITEUP_NAG)).all()
        assert {n.recipient for n in nags} == {VISITOR, PAIR}  # every traveller is reminded
        nag = next(n for n in nags if n.recipient == VISITOR)
        due = DueReminder(nag.id, nag.kind, nag.recipient, nag.visit_id, dict(nag.params), nag.due_at)
    after = HELSINKI_NOON + timedelta(days=20)
    with session_factory() as session:
        assert visit_reminders.writeup_still_due(session, due, after)
        with pytest.raises(NotAllowed):
            writeups.open_form(session, visit_id, PAIR_BOSS, after)  # a supervisor did not travel
        writeups.open_form(session, visit_id, PAIR, after)  # the colleague may write it
    data = writeups.WriteUpInput(title="Lukukoirat", learned="Koirat rauhoittavat.", recommend="yes")
    submitted = writeups.submit(session_factory, visit_id, data, actor=PAIR, now=after)
    assert submitted.writeup.authors == (VISITOR, PAIR)  # one write-up, both named
    with session_factory() as session:
        assert not visit_reminders.writeup_still_due(session, due, after)  # for the visitor too


def test_a_stuck_consent_is_handed_only_to_a_supervisor_of_the_same_library(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    from services.people import staff

    card = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR_BOSS}).card
    with session_factory() as session:
        other = session.scalars(select(Library.id).where(Library.id != world["home"])).first()
    staff.update_settings(
        session_factory,
        "U0ELSEWHERE",
        home_library_id=other,
        language=None,
        now=HELSINKI_NOON,
        default_language="fi",
    )
    with pytest.raises(InvalidInput) as refused:
        state_machine.hand_over(
            session_factory, card.id, "U0ELSEWHERE", actor=COORD, is_coordinator=True, now=HELSINKI_NOON
        )
    assert refused.value.fields["to"][0] == "visits.handover.other_library"
    with pytest.raises(NotAllowed):  # only a coordinator hands decisions over
        state_machine.hand_over(
            session_factory, card.id, "U0DEPUTY", actor=BOSS, is_coordinator=False, now=HELSINKI_NOON
        )
    change, taken = state_machine.hand_over(
        session_factory, card.id, "U0DEPUTY", actor=COORD, is_coordinator=True, now=HELSINKI_NOON
    )
    assert set(taken) == {BOSS, PAIR_BOSS}  # every consent still owed goes to the deputy
    assert change.card.supervisors == ("U0DEPUTY",) and change.card.waits_for_supervisor("U0DEPUTY")


def test_a_supervisor_who_has_decided_is_nudged_no_more_while_another_still_owes(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    from models import Reminder, ReminderStatus
    from services.visits import visit_reminders

    card = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR_BOSS}).card

    def nudged() -> set[str]:
        with session_factory() as session:
            rows = session.scalars(
                select(Reminder).where(
                    Reminder.kind == visit_reminders.DECISION_NUDGE, Reminder.status == ReminderStatus.PENDING
                )
            ).all()
            return {r.recipient for r in rows if r.params.get("party") == "supervisor"}

    assert nudged() == {BOSS, PAIR_BOSS}
    decide(session_factory, card.id, "supervisor", BOSS)
    assert nudged() == {PAIR_BOSS}

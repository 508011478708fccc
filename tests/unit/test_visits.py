"""The visit state machine, costs and lists, driven through services (no Slack)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    KilometreRate,
    Library,
    LibraryContact,
    PartyState,
    Topic,
    Visit,
    VisitDecision,
    VisitStatus,
)
from services.common.errors import InvalidInput, NotAllowed
from services.find import matching
from services.money import costs
from services.visits import proposing, replanning, state_machine, visit_card, visit_lists
from services.visits.proposing import ProposalInput
from services.visits.state_machine import AlreadyDecided
from tests.conftest import HELSINKI_NOON

VISITOR, BOSS, HOST, HOST2, COORD = "U0VISITOR", "U0BOSS", "U0HOST1", "U0HOST2", "U0COORD"


def form(world: dict[str, int], **kw: object) -> ProposalInput:
    values: dict[str, object] = dict(
        topic_id=world["topic"],
        host_library_id=world["host"],
        learn="Omatoimiaika",
        dates=[date(2026, 12, 2), date(2026, 12, 3), None],
        length="day",
        travel_mode="car",
        km="120",
        tickets="10,50",
        accommodation="",
        supervisor_id=BOSS,
        note="",
    )
    values.update(kw)
    return ProposalInput(**values)  # type: ignore[arg-type]


def propose(sf: sessionmaker[Session], world: dict[str, int], **kw: object) -> visit_card.Change:
    return proposing.propose(
        sf, form(world, **kw), visitor_id=VISITOR, home_library_id=world["home"], now=HELSINKI_NOON
    )


def decide(
    sf: sessionmaker[Session], visit_id: int, party: str, actor: str, **kw: object
) -> visit_card.Change:
    return state_machine.decide(
        sf,
        visit_id,
        party=party,
        approve=kw.pop("approve", True),  # type: ignore[arg-type]
        actor=actor,
        is_coordinator=actor == COORD,
        now=HELSINKI_NOON,
        **kw,  # type: ignore[arg-type]
    )


def test_costs_are_decimal_and_use_the_travel_years_rate(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    assert card.cost.kilometre_allowance == Decimal("66.00")  # 120 x 0.55 (2026)
    assert card.cost.tickets == Decimal("10.50")
    assert card.cost.total == Decimal("76.50")
    assert all(isinstance(v, Decimal) for v in (card.cost.rate, card.cost.total))
    with session_factory() as s:
        assert costs.rate_for(s, 2025) == Decimal("0.59")
        assert costs.rate_for(s, 2024) == Decimal("0.57")
        assert costs.rate_for(s, 2030) == Decimal("0.55")  # the latest known
    with session_factory.begin() as s:
        s.add(KilometreRate(year=2027, eur_per_km=Decimal("0.61")))
    with session_factory() as s:
        assert costs.rate_for(s, 2027) == Decimal("0.61")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12,50", Decimal("12.50")),
        ("", Decimal("0")),
        (" 7 € ", Decimal("7")),
        ("-1", None),
        ("x", None),
        ("NaN", None),
        ("1e9", None),
    ],
)
def test_amounts_typed_by_people(text: str, value: Decimal | None) -> None:
    assert costs.parse_amount(text, maximum=Decimal("10000")) == value


def test_proposal_errors_are_reported_per_field_and_nothing_is_saved(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        propose(
            session_factory,
            world,
            host_library_id=world["home"],
            dates=[date(2026, 12, 24), date(2026, 12, 5), None],
            supervisor_id=VISITOR,
            learn=" ",
            length="week",
        )
    assert set(caught.value.fields) == {"host", "date_1", "date_2", "supervisor", "learn", "length"}
    with session_factory() as s:
        assert s.scalar(select(Visit.id)) is None


def test_host_without_contacts_is_refused(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    with session_factory() as s:
        other = s.scalar(select(Library).where(Library.key == "iisalmi"))
    with pytest.raises(InvalidInput) as caught:
        propose(session_factory, world, host_library_id=other.id)
    assert caught.value.fields["host"][0] == "visits.error.host_no_contacts"


def test_confirmed_only_when_all_three_agree(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    date_id = card.visitor_dates[1].id
    assert decide(session_factory, card.id, "funding", COORD).event == "funding_approved"
    assert decide(session_factory, card.id, "host", HOST2, date_id=date_id).event == "host_approved"
    change = decide(session_factory, card.id, "supervisor", BOSS)
    assert change.event == "confirmed" and change.invite == "send"
    assert change.card.status == VisitStatus.CONFIRMED and change.card.chosen_date == date(2026, 12, 3)
    assert change.card.sequence == 0


def test_who_may_decide(session_factory: sessionmaker[Session], world: dict[str, int]) -> None:
    card = propose(session_factory, world).card
    for party, actor in [
        ("supervisor", COORD),
        ("supervisor", VISITOR),
        ("host", BOSS),
        ("funding", HOST),
        ("funding", BOSS),
    ]:
        with pytest.raises(NotAllowed):
            decide(session_factory, card.id, party, actor, date_id=card.visitor_dates[0].id)
    with pytest.raises(NotAllowed):
        state_machine.cancel(session_factory, card.id, actor=HOST, is_coordinator=False, now=HELSINKI_NOON)
    with session_factory() as s:
        assert s.scalar(select(VisitDecision.id)) is None


def test_second_decision_is_refused_and_names_who_decided(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    decide(session_factory, card.id, "host", HOST, date_id=card.visitor_dates[0].id)
    with pytest.raises(AlreadyDecided) as caught:
        decide(session_factory, card.id, "host", HOST2, date_id=card.visitor_dates[1].id)
    assert caught.value.params["who"] == f"<@{HOST}>"
    with pytest.raises(AlreadyDecided):  # declining after accepting is no longer asked either
        decide(session_factory, card.id, "host", HOST2, approve=False, reason="ei")


def test_decline_ends_the_visit_and_suggests_next_hosts(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    from tests.find_support import add_offer

    with session_factory() as s:
        topic_key = s.scalar(select(Topic.key).where(Topic.id == world["topic"]))
    for key in ("tervo", "rantasalmi", "siilinjarvi", "varkaus"):  # four offer the topic
        add_offer(session_factory, key, [topic_key], HELSINKI_NOON, contacts=(f"U0{key.upper()[:6]}",))
    card = propose(session_factory, world).card
    change = decide(session_factory, card.id, "supervisor", BOSS, approve=False, reason="Kiire")
    assert change.card.status == VisitStatus.DECLINED and change.invite is None
    assert len(change.card.next_hosts) == 3  # the best three of those that offer the topic
    assert world["host"] not in [h.library_id for h in change.card.next_hosts]
    with pytest.raises(AlreadyDecided):
        decide(session_factory, card.id, "funding", COORD)


def test_counter_then_pick_and_move_and_cancel(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    with pytest.raises(InvalidInput):
        state_machine.counter(
            session_factory,
            card.id,
            [date(2026, 12, 9), date(2026, 12, 9)],
            actor=HOST,
            is_coordinator=False,
            now=HELSINKI_NOON,
        )
    changed = state_machine.counter(
        session_factory,
        card.id,
        [date(2026, 12, 9), date(2026, 12, 10)],
        actor=HOST,
        is_coordinator=False,
        now=HELSINKI_NOON,
    )
    assert changed.card.host_state == PartyState.COUNTERED and changed.card.asks("visitor")
    with pytest.raises(NotAllowed):
        state_machine.pick(
            session_factory,
            card.id,
            changed.card.host_dates[0].id,
            actor=HOST,
            is_coordinator=False,
            now=HELSINKI_NOON,
        )
    picked = state_machine.pick(
        session_factory,
        card.id,
        changed.card.host_dates[0].id,
        actor=VISITOR,
        is_coordinator=False,
        now=HELSINKI_NOON,
    )
    assert picked.card.chosen_date == date(2026, 12, 9) and picked.card.host_state == PartyState.APPROVED
    decide(session_factory, card.id, "supervisor", BOSS)
    confirmed = decide(session_factory, card.id, "funding", COORD)
    assert confirmed.event == "confirmed"
    moved = state_machine.move(
        session_factory, card.id, date(2026, 12, 17), actor=COORD, is_coordinator=True, now=HELSINKI_NOON
    )
    assert moved.card.status == VisitStatus.PROPOSED and moved.card.round == 2
    assert moved.invite == "tentative" and moved.card.sequence == 1  # calendars follow at once
    assert moved.card.funding_state == PartyState.APPROVED  # the cost did not rise
    assert [d.day for d in moved.card.visitor_dates] == [date(2026, 12, 17)]
    decide(session_factory, card.id, "host", HOST, date_id=moved.card.visitor_dates[0].id, round_=2)
    again = decide(session_factory, card.id, "supervisor", BOSS, round_=2)
    assert again.event == "confirmed" and again.card.sequence == 2
    cancelled = state_machine.cancel(
        session_factory, card.id, actor=VISITOR, is_coordinator=False, now=HELSINKI_NOON
    )
    assert cancelled.invite == "cancel" and cancelled.card.sequence == 3
    with pytest.raises(AlreadyDecided):
        state_machine.cancel(session_factory, card.id, actor=VISITOR, is_coordinator=False, now=HELSINKI_NOON)


def test_a_visit_that_has_happened_cannot_be_cancelled(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    decide(session_factory, card.id, "host", HOST, date_id=card.visitor_dates[0].id)
    later = datetime(2026, 12, 3, 10, tzinfo=UTC)
    with pytest.raises(AlreadyDecided) as caught:
        state_machine.cancel(session_factory, card.id, actor=VISITOR, is_coordinator=False, now=later)
    assert caught.value.key == "visits.error.already_happened"


def test_agreed_visits_this_month_counts_confirmed_visits_per_host(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    for day in (date(2026, 11, 26), date(2026, 11, 27)):
        card = propose(session_factory, world, dates=[day, None, None]).card
        decide(session_factory, card.id, "host", HOST, date_id=card.visitor_dates[0].id)
        decide(session_factory, card.id, "supervisor", BOSS)
        decide(session_factory, card.id, "funding", COORD)
    december = propose(session_factory, world).card  # proposed, not agreed
    assert december.status == VisitStatus.PROPOSED
    with session_factory() as s:
        counts = matching.agreed_visits_this_month(s, [world["host"], world["home"]], HELSINKI_NOON)
        assert counts == {world["host"]: 2, world["home"]: 0}
        assert matching.agreed_visits_this_month(s, [world["host"]], HELSINKI_NOON + timedelta(days=10)) == {
            world["host"]: 0
        }


def test_lists_page_newest_first_and_waiting_knows_the_role(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    ids = [propose(session_factory, world).card.id for _ in range(23)]
    page0 = visit_lists.my_visits(session_factory, VISITOR, page=0, page_size=10)
    assert page0.total == 23 and page0.has_next and len(page0.lines) == 10
    page2 = visit_lists.my_visits(session_factory, VISITOR, page=2, page_size=10)
    assert [line.id for line in page2.lines] == sorted(ids)[:3][::-1]
    assert not page2.has_next
    assert visit_lists.my_visits(session_factory, VISITOR, page=99).page == 2  # clamped
    waiting = visit_lists.waiting_for(session_factory, HOST, is_coordinator=False, limit=5)
    assert (
        waiting.total == 23
        and len(waiting.lines) == 5
        and {line.waiting_as for line in waiting.lines} == {"host"}
    )
    assert (
        visit_lists.waiting_for(session_factory, COORD, is_coordinator=True).lines[0].waiting_as == "funding"
    )
    assert (
        visit_lists.waiting_for(session_factory, BOSS, is_coordinator=False).lines[0].waiting_as
        == "supervisor"
    )
    assert visit_lists.waiting_for(session_factory, "U0NOBODY", is_coordinator=False).total == 0


def _race(session_factory: sessionmaker[Session], world: dict[str, int]) -> tuple[list[object], int]:
    card = propose(session_factory, world).card
    barrier = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def accept(actor: str, date_id: int) -> None:
        barrier.wait()
        try:
            outcome: object = decide(session_factory, card.id, "host", actor, date_id=date_id)
        except AlreadyDecided as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [
        threading.Thread(target=accept, args=(HOST, card.visitor_dates[0].id)),
        threading.Thread(target=accept, args=(HOST2, card.visitor_dates[1].id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    return results, card.id


def _assert_one_decision(
    session_factory: sessionmaker[Session], results: list[object], visit_id: int
) -> None:
    assert len(results) == 2
    winners = [r for r in results if isinstance(r, visit_card.Change)]
    losers = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(winners) == 1 and len(losers) == 1
    with session_factory() as s:
        rows = s.scalars(select(VisitDecision).where(VisitDecision.visit_id == visit_id)).all()
        assert [(r.party, r.decided_by) for r in rows] == [("host", winners[0].actor)]  # type: ignore[union-attr]
        assert losers[0].params["who"] == f"<@{winners[0].actor}>"  # type: ignore[union-attr]
        visit = s.get(Visit, visit_id)
        assert visit is not None and visit.host_state == PartyState.APPROVED


def test_two_host_accepts_at_once_give_one_decision(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    results, visit_id = _race(session_factory, world)
    _assert_one_decision(session_factory, results, visit_id)


@pytest.mark.postgres
def test_two_host_accepts_at_once_on_postgresql(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    for _ in range(5):  # several rounds, to give the race a real chance
        results, visit_id = _race(session_factory, world)
        _assert_one_decision(session_factory, results, visit_id)


def _statements(session_factory: sessionmaker[Session], action: object) -> int:
    from sqlalchemy import event

    engine = session_factory.kw["bind"]
    seen: list[str] = []

    def count(*args: object) -> None:
        if not str(args[2]).startswith("BEGIN"):
            seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_statements_do_not_grow_with_contacts_or_history(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    """No N+1: a decision costs the same with 2 host contacts as with 30, and after many changes."""
    small = propose(session_factory, world).card
    few = _statements(session_factory, lambda: decide(session_factory, small.id, "supervisor", BOSS))
    with session_factory.begin() as s:
        s.add_all(
            LibraryContact(library_id=world["host"], slack_user_id=f"U0EXTRA{i:02d}", added_at=HELSINKI_NOON)
            for i in range(28)
        )
    busy = propose(session_factory, world).card
    state_machine.counter(
        session_factory, busy.id, [date(2026, 12, 9)], actor=HOST, is_coordinator=False, now=HELSINKI_NOON
    )
    many = _statements(session_factory, lambda: decide(session_factory, busy.id, "supervisor", BOSS))
    # 20: the outbox row of the change (visit_outbox), who coordinates the region (the conflicts
    # rule; cached, so a suite that has already read it counts one fewer), the travellers and
    # whether the region pays the passenger supplement (the cost), the supervisor's own people,
    # the periods away of the visit's deciders (substitutes, one query whatever their number),
    # a study trip's further stops (one query, none of them here)
    assert few == many <= 23, (few, many)
    listing = _statements(session_factory, lambda: visit_lists.my_visits(session_factory, VISITOR))
    waiting = _statements(
        session_factory, lambda: visit_lists.waiting_for(session_factory, HOST, is_coordinator=True)
    )
    # waiting: + whose consents are owed, + the study trips' stops the user's libraries owe
    assert listing <= 2 and waiting <= 5, (listing, waiting)


@pytest.mark.parametrize(
    ("actor", "party", "as_contact", "refused_with"),
    [
        (VISITOR, "supervisor", False, "visits.not_yours"),  # a traveller never approves their own trip
        (VISITOR, "host", False, "visits.host.conflict"),  # a coordinator's own visit
        (VISITOR, "funding", False, "visits.funding.conflict"),
        (BOSS, "host", False, "visits.host.conflict"),  # a coordinator's staff's visit
        (BOSS, "funding", False, "visits.funding.conflict"),
        (BOSS, "host", True, "visits.host.conflict"),  # the supervisor is also the host's contact
    ],
)
def test_nobody_decides_a_side_of_their_own_visit_or_their_staffs(
    session_factory: sessionmaker[Session],
    world: dict[str, int],
    actor: str,
    party: str,
    as_contact: bool,
    refused_with: str,
) -> None:
    if as_contact:
        with session_factory.begin() as s:
            s.add(LibraryContact(library_id=world["host"], slack_user_id=BOSS, added_at=HELSINKI_NOON))
    card = propose(session_factory, world).card
    date_id = card.visitor_dates[0].id if party == "host" else None
    for approve in (True, False):
        with pytest.raises(NotAllowed) as refused:
            state_machine.decide(
                session_factory,
                card.id,
                party=party,
                approve=approve,
                actor=actor,
                is_coordinator=not as_contact,  # a coordinator of every region, or only the contact
                now=HELSINKI_NOON,
                date_id=date_id,
            )
        assert refused.value.key == refused_with
    after = visit_lists.card_of(session_factory, card.id)
    assert (after.status, after.state_of(party), after.decisions) == (
        VisitStatus.PROPOSED,
        PartyState.PENDING,
        (),
    )
    # The supervisor decides their own side, another coordinator the host's or the funding.
    decider = BOSS if party == "supervisor" else COORD
    assert decide(session_factory, card.id, party, decider, date_id=date_id).card.state_of(party) in (
        PartyState.APPROVED,
    )


def test_a_host_date_picked_after_it_passed_lapses_and_new_dates_ask_the_host_again(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    countered = state_machine.counter(
        session_factory, card.id, [date(2026, 12, 9)], actor=HOST, is_coordinator=False, now=HELSINKI_NOON
    )
    later = HELSINKI_NOON + timedelta(days=15)  # 9.12. has passed by now
    lapsed = state_machine.pick(
        session_factory,
        card.id,
        countered.card.host_dates[0].id,
        actor=VISITOR,
        is_coordinator=False,
        now=later,
    )
    assert lapsed.event == "dates_lapsed" and lapsed.card.host_state == PartyState.LAPSED
    assert lapsed.card.chosen_date is None and not lapsed.card.host_dates and lapsed.card.asks("visitor")
    assert not lapsed.card.asks("host")
    with pytest.raises(AlreadyDecided):  # the host has nothing to accept until the new dates come
        decide(session_factory, card.id, "host", HOST, date_id=countered.card.host_dates[0].id)
    with pytest.raises(NotAllowed):
        replanning.redate(
            session_factory, card.id, [date(2026, 12, 16)], actor=HOST, is_coordinator=False, now=later
        )
    with pytest.raises(InvalidInput):  # a day that has passed is no new date
        replanning.redate(
            session_factory, card.id, [date(2026, 12, 2)], actor=VISITOR, is_coordinator=False, now=later
        )
    renewed = replanning.redate(
        session_factory, card.id, [date(2026, 12, 16)], actor=VISITOR, is_coordinator=False, now=later
    )
    assert renewed.event == "redated" and renewed.card.asks("host") and renewed.card.round == card.round + 1
    assert [d.day for d in renewed.card.visitor_dates] == [date(2026, 12, 16)]
    with pytest.raises(AlreadyDecided):  # once is enough: the same form sent twice is refused
        replanning.redate(
            session_factory,
            card.id,
            [date(2026, 12, 17)],
            actor=VISITOR,
            is_coordinator=False,
            now=later,
            round_=renewed.card.round - 1,
        )


def test_moving_a_one_day_visit_that_had_accommodation_keeps_it(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    """A one-day visit proposed before accommodation was tied to two days (a night) keeps its
    accommodation when it is moved; the move form, which asks no night for one day, drops nothing."""
    card = propose(session_factory, world).card
    with session_factory.begin() as session:
        legacy = session.get(Visit, card.id)
        assert legacy is not None and legacy.length == "day"
        legacy.accommodation_cost = Decimal("89.00")
    decide(session_factory, card.id, "supervisor", BOSS)
    decide(session_factory, card.id, "host", HOST, date_id=card.visitor_dates[0].id)
    assert decide(session_factory, card.id, "funding", COORD).event == "confirmed"
    moved = state_machine.move(
        session_factory, card.id, date(2026, 12, 17), actor=VISITOR, is_coordinator=False, now=HELSINKI_NOON
    )
    assert moved.card.cost.accommodation == Decimal("89.00")
    with session_factory() as session:
        after = session.get(Visit, card.id)
        assert after is not None and after.accommodation_cost == Decimal("89.00")

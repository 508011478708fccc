"""Substitutes (sijainen) in the domain: the rules of a period away, who may decide what for whom
while it lasts (the conflict rules hold for a substitute too), and the decision log's "on behalf
of"."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEntry, PartyState, Reminder, Substitute, VisitDecision
from services.common.errors import InvalidInput, NotAllowed
from services.common.workdays import local_today
from services.people import substitutes
from services.visits import substitution
from tests.conftest import HELSINKI_NOON
from tests.unit.test_visits import BOSS, HOST, HOST2, VISITOR, decide, propose

TZ = ZoneInfo("Europe/Helsinki")
TODAY = local_today(HELSINKI_NOON)
DEPUTY, PAIR, PAIR_BOSS = "U0DEPUTY", "U0PAIR", "U0PAIRBOSS"


def away(sf: sessionmaker[Session], user: str, substitute: str | None, start: date | None, end: date | None):
    return substitution.set_away(sf, user, substitute, start, end, now=HELSINKI_NOON, tz=TZ)


def fields(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {name: key for name, (key, _params) in exc.value.fields.items()}


def test_the_rules_of_a_period(session_factory: sessionmaker[Session]) -> None:
    check = substitutes.check
    assert check(BOSS, DEPUTY, TODAY, TODAY, today=TODAY) == {}
    assert check(BOSS, BOSS, TODAY, TODAY, today=TODAY)["substitute"][0] == "substitutes.error.self"
    assert check(BOSS, None, None, None, today=TODAY).keys() == {"starts_on", "ends_on", "substitute"}
    assert check(BOSS, DEPUTY, TODAY, TODAY - timedelta(days=1), today=TODAY)["ends_on"][0] == (
        "substitutes.error.order"
    )
    yesterday = TODAY - timedelta(days=1)
    assert check(BOSS, DEPUTY, yesterday - timedelta(days=3), yesterday, today=TODAY)["ends_on"][0] == (
        "substitutes.error.past"
    )
    long = TODAY + timedelta(days=substitutes.MAX_DAYS)
    assert check(BOSS, DEPUTY, TODAY, long, today=TODAY)["ends_on"][0] == "substitutes.error.too_long"
    assert check(BOSS, DEPUTY, TODAY, long - timedelta(days=1), today=TODAY) == {}

    first = away(session_factory, BOSS, DEPUTY, TODAY, TODAY + timedelta(days=9))
    with pytest.raises(InvalidInput) as overlap:
        away(session_factory, BOSS, HOST, TODAY + timedelta(days=5), TODAY + timedelta(days=20))
    assert fields(overlap) == {"starts_on": "substitutes.error.overlap"}
    with pytest.raises(InvalidInput) as busy:  # DEPUTY stands in for BOSS meanwhile
        away(session_factory, DEPUTY, HOST, TODAY + timedelta(days=2), TODAY + timedelta(days=3))
    assert fields(busy) == {"starts_on": "substitutes.error.you_substitute"}
    with pytest.raises(InvalidInput) as gone:  # the substitute is away themselves meanwhile
        away(session_factory, HOST, BOSS, TODAY + timedelta(days=2), TODAY + timedelta(days=3))
    assert fields(gone) == {"substitute": "substitutes.error.substitute_away"}
    with session_factory() as session:
        assert substitutes.acting_for(session, BOSS, TODAY) == DEPUTY
        assert substitutes.acting_for(session, BOSS, first.ends_on + timedelta(days=1)) is None
        assert substitutes.on_behalf_of(session, DEPUTY, [HOST, BOSS], TODAY) == [BOSS]
        assert substitutes.on_behalf_of(session, HOST, [BOSS], TODAY) == []
        assert [a.id for a in substitutes.of_user(session, BOSS, today=TODAY)] == [first.id]
        keys = set(session.scalars(select(Reminder.dedupe_key)))
    end = first.ends_on.isoformat()
    assert {f"substitute:{first.id}:end:{end}", f"substitute:{first.id}:back:{end}"} <= keys


def test_only_ones_own_period_is_removed_and_one_under_way_ends_yesterday(
    session_factory: sessionmaker[Session],
) -> None:
    now_on = away(session_factory, BOSS, DEPUTY, TODAY, TODAY + timedelta(days=4))
    ahead = away(session_factory, BOSS, DEPUTY, TODAY + timedelta(days=10), TODAY + timedelta(days=12))
    with pytest.raises(NotAllowed):
        substitution.remove(session_factory, DEPUTY, ahead.id, now=HELSINKI_NOON, tz=TZ)
    substitution.remove(session_factory, BOSS, ahead.id, now=HELSINKI_NOON, tz=TZ)
    with session_factory() as session:
        assert session.get(Substitute, ahead.id) is None
    later = HELSINKI_NOON + timedelta(days=2)
    substitution.remove(session_factory, BOSS, now_on.id, now=later, tz=TZ)
    with session_factory() as session:
        row = session.get(Substitute, now_on.id)
        assert row is not None and row.ends_on == local_today(later) - timedelta(days=1)
        assert substitutes.acting_for(session, BOSS, local_today(later)) is None


def test_a_substitute_consents_on_behalf_of_the_supervisor_away(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    with pytest.raises(NotAllowed):
        decide(session_factory, card.id, "supervisor", DEPUTY)  # not yet anyone's substitute
    away(session_factory, BOSS, DEPUTY, TODAY, TODAY + timedelta(days=3))
    change = decide(session_factory, card.id, "supervisor", DEPUTY)
    assert change.card.supervisor_state == PartyState.APPROVED
    last = change.card.last_decision("supervisor")
    assert last is not None and (last.decided_by, last.on_behalf_of) == (DEPUTY, BOSS)
    with session_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "visit.approved")).one()
        assert entry.actor == DEPUTY and entry.details["on_behalf_of"] == BOSS


def test_a_substitute_never_decides_their_own_trip(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR_BOSS}).card
    with pytest.raises(InvalidInput) as refused:  # PAIR travels on a visit waiting for BOSS
        away(session_factory, BOSS, PAIR, TODAY, TODAY + timedelta(days=3))
    assert fields(refused) == {"substitute": "substitutes.error.own_visit"}
    # Named before the trip existed: the press is refused all the same.
    with session_factory.begin() as session:
        session.add(
            Substitute(
                user_id=PAIR_BOSS,
                substitute_id=PAIR,
                starts_on=TODAY,
                ends_on=TODAY,
                created_at=HELSINKI_NOON,
            )
        )
    with pytest.raises(NotAllowed) as own:
        decide(session_factory, card.id, "supervisor", PAIR)
    assert own.value.key == "visits.substitute.own_trip"


def test_a_host_contacts_substitute_decides_the_host_side_under_the_conflict_rules(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    card = propose(session_factory, world).card
    away(session_factory, HOST, DEPUTY, TODAY, TODAY + timedelta(days=3))
    with pytest.raises(InvalidInput) as refused:  # the visitor's supervisor: never the host's side
        away(session_factory, HOST2, BOSS, TODAY, TODAY + timedelta(days=3))
    assert fields(refused) == {"substitute": "substitutes.error.own_visit"}
    with session_factory.begin() as session:  # named before the visit was proposed
        session.add(
            Substitute(
                user_id=HOST2, substitute_id=BOSS, starts_on=TODAY, ends_on=TODAY, created_at=HELSINKI_NOON
            )
        )
    with pytest.raises(NotAllowed):
        decide(session_factory, card.id, "host", BOSS, date_id=card.visitor_dates[0].id)
    change = decide(session_factory, card.id, "host", DEPUTY, date_id=card.visitor_dates[0].id)
    assert change.card.host_state == PartyState.APPROVED
    with session_factory() as session:
        row = session.scalars(select(VisitDecision).where(VisitDecision.party == "host")).one()
        assert (row.decided_by, row.on_behalf_of) == (DEPUTY, HOST)
    assert VISITOR not in change.card.stand_ins("host", TODAY)


def test_the_messages_say_on_whose_behalf_in_every_language(
    session_factory: sessionmaker[Session], world: dict[str, int]
) -> None:
    from bot.i18n import translator
    from bot.views.limits import check_message
    from bot.views.reminders import substitute_back
    from bot.views.visit import visit_message
    from services.visits.substitution import BackReport, Decided

    card = propose(session_factory, world, colleagues=[PAIR], colleague_supervisors={PAIR: PAIR_BOSS}).card
    away(session_factory, PAIR_BOSS, DEPUTY, TODAY, TODAY + timedelta(days=3))
    with session_factory() as session:
        from services.visits import visit_card

        card = visit_card.read_card(session, visit_card.load(session, card.id))
    assert card.stand_ins("supervisor", TODAY) == {DEPUTY: (PAIR_BOSS,)}
    waiting = visit_message(
        card, "supervisor", translator("fi"), today=TODAY, reader=DEPUTY, on_behalf=(PAIR_BOSS,)
    )
    assert "Päätät tästä sijaisena" in str(waiting) and f"<@{PAIR}>" in str(waiting)
    assert "supervisor_approve" in str(waiting)
    card = decide(session_factory, card.id, "supervisor", DEPUTY).card
    expected = {
        "fi": f"<@{DEPUTY}> sijaisena (poissa: <@{PAIR_BOSS}>)",
        "sv": f"<@{DEPUTY}> (ersättare för <@{PAIR_BOSS}>)",
        "en": f"<@{DEPUTY}> on behalf of <@{PAIR_BOSS}>",
    }
    for lang, words in expected.items():
        message = visit_message(card, "visitor", translator(lang), today=TODAY)
        check_message(message)
        assert words in str(message), lang
    decided = tuple(
        Decided(
            card.id,
            {"fi": "x" * 200, "sv": "x", "en": "x"},
            "Joroisten kirjasto",
            "host",
            "approved",
            DEPUTY,
            HELSINKI_NOON,
        )
        for _ in range(60)
    )
    back = BackReport(substitutes.Away(1, BOSS, DEPUTY, TODAY, TODAY), decided)
    for lang in ("fi", "sv", "en"):
        check_message(substitute_back(back, translator(lang)))

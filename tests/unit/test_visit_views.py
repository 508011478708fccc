"""Visit messages and forms at their largest, in every language and role, inside Block Kit limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.i18n import translator
from bot.views.limits import check_message, check_view
from bot.views.propose import (
    counter_modal,
    decline_modal,
    move_modal,
    propose_modal,
    redate_modal,
    stop_options,
    with_colleagues,
    with_length,
)
from bot.views.stops import replace_modal
from bot.views.visit import visit_message
from bot.views.visit_lists import mine_message
from models import PartyState, Topic, VisitStatus
from services.money import costs
from services.visits.stop_info import StopChoice, StopInfo
from services.visits.travellers import TravellerInfo
from services.visits.visit_card import DateChoice, DecisionInfo, HostChoice, VisitCard
from services.visits.visit_lists import Page, VisitLine

LONG = "Ä" * 1500
AT = datetime(2026, 11, 24, 10, tzinfo=UTC)


SIX = (
    TravellerInfo("U0VISITOR", "U0BOSS", PartyState.PENDING),
    *(TravellerInfo(f"U0COLLEAGUE{n}", f"U0BOSS{n}", PartyState.PENDING) for n in range(5)),
)
SIX_COST = costs.estimate(
    Decimal("4999.9"),
    Decimal("0.55"),
    Decimal("9999.99"),
    Decimal("9999.99"),
    1,
    travellers=6,
    passengers=5,
    passenger_rate=Decimal("0.04"),
)


def big_card(**kw: object) -> VisitCard:
    card = VisitCard(
        id=99999,
        visitor_id="U0VISITOR",
        supervisor_id="U0BOSS",
        home_library_name="K" * 200,
        host_library_id=7,
        host_library_name="H" * 200,
        topic_id=3,
        topic_names={"fi": "T" * 200, "sv": "T" * 200, "en": "T" * 200},
        learn=LONG + "<!channel>",
        length="two_days",
        travel_mode="public",
        cost=costs.estimate(Decimal("4999.9"), Decimal("0.55"), Decimal("9999.99"), Decimal("9999.99")),
        note_to_host=LONG,
        status=VisitStatus.PROPOSED,
        supervisor_state=PartyState.PENDING,
        host_state=PartyState.PENDING,
        funding_state=PartyState.PENDING,
        round=12,
        chosen_date=None,
        visitor_dates=tuple(DateChoice(100 + i, date(2026, 12, 2 + i)) for i in range(3)),
        host_dates=tuple(DateChoice(200 + i, date(2026, 12, 9 + i)) for i in range(3)),
        decisions=(DecisionInfo("host", "U0HOST1", "countered", LONG, AT, 12),),
        host_contacts=("U0HOST1", "U0HOST2"),
        sequence=3,
        next_hosts=tuple(HostChoice(i, "N" * 200, 123.4) for i in range(3)),
    )
    return replace(card, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("role", ["visitor", "traveller", "supervisor", "host", "funding"])
@pytest.mark.parametrize(
    "state",
    [
        {},
        {"host_state": PartyState.COUNTERED},
        {"host_state": PartyState.LAPSED},  # the dates no longer work: the visitor gives new ones
        {"status": VisitStatus.DECLINED, "supervisor_state": PartyState.DECLINED},
        {"status": VisitStatus.CONFIRMED, "chosen_date": date(2026, 12, 3)},
        {"coordinators": ("U0VISITOR", "U0BOSS")},  # nobody may decide the funding: said so
        {"coordinators": ()},  # the region has no coordinator
        {"coordinators": ("U0BOSS", "U0OTHERCOORD")},  # the supervisor is told another decides
        {"travellers": SIX, "cost": SIX_COST},  # five colleagues, each with their own supervisor
    ],
)
def test_visit_messages_at_their_largest(lang: str, role: str, state: dict[str, object]) -> None:
    message = visit_message(big_card(**state), role, translator(lang), today=date(2026, 11, 24))
    check_message(message)
    assert "<!channel>" not in str(message["blocks"])


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_forms_at_their_largest(lang: str) -> None:
    t = translator(lang)
    card = big_card()
    topics = [Topic(id=i, name_fi="T" * 200, name_sv="T" * 200, name_en="T" * 200) for i in range(150)]
    view = propose_modal(t, topics=topics, topic=topics[3], host=HostChoice(1, "N" * 300, 12.0))
    check_view(view)
    # two days with a night, five colleagues each with a supervisor field (long Finnish names)
    names = [(f"U0COLLEAGUE{n}", "Äijälä-Väänänen " * 12) for n in range(5)]
    largest = with_colleagues(with_length(view, t, "two_days"), t, names, "U0BOSS")
    check_view(largest)
    assert len([b for b in largest["blocks"] if "colleague_supervisor" in b.get("block_id", "")]) == 5
    topic_select = next(b for b in view["blocks"] if b.get("block_id") == "propose_topic")["element"]
    assert len(topic_select["options"]) == 100 and topic_select["initial_option"]["value"] == "3"
    for view in (
        decline_modal(t, card, "host"),
        counter_modal(t, card),
        move_modal(t, card),
        redate_modal(t, card),
    ):
        check_view(view)


def test_list_message_with_full_pages() -> None:
    line = VisitLine(
        id=1,
        visitor_id="U0VISITOR",
        topic_names={"fi": "T" * 200},
        host_library_name="H" * 200,
        status=VisitStatus.PROPOSED,
        supervisor_state=PartyState.PENDING,
        host_state=PartyState.PENDING,
        funding_state=PartyState.PENDING,
        chosen_date=None,
        first_date=date(2026, 12, 2),
        created_at=AT,
        waiting_as="host",
    )
    page = Page([line] * 10, 200, 5, 10)
    for lang in ("fi", "sv", "en"):
        message = mine_message(page, page, translator(lang))
        check_message(message)
        assert len(message["blocks"]) <= 30


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_funding_notes_when_the_coordinator_may_not_decide(lang: str) -> None:
    t = translator(lang)
    today = date(2026, 11, 24)
    alone = big_card(coordinators=("U0BOSS",))
    for role in ("visitor", "supervisor", "host"):
        assert t("visits.funding.no_other", who="<@U0BOSS>") in str(
            visit_message(alone, role, t, today=today)
        )
    nobody = big_card(coordinators=())
    assert t("visits.funding.nobody") in str(visit_message(nobody, "visitor", t, today=today))
    shared = big_card(coordinators=("U0BOSS", "U0OTHERCOORD"))
    assert t("visits.funding.not_you") in str(visit_message(shared, "supervisor", t, today=today))
    assert t("visits.funding.not_you") not in str(visit_message(shared, "visitor", t, today=today))
    assert shared.funding_deciders == ("U0OTHERCOORD",)
    unknown = big_card()  # a card read without the region's coordinators: no note
    assert "⚠️" not in str(visit_message(unknown, "visitor", t, today=today))


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize(
    ("recipient", "party", "offered"),
    [
        ("U0OTHERCOORD", "host", True),
        ("U0OTHERCOORD", "funding", True),
        ("U0VISITOR", "host", False),  # a coordinator's own visit
        ("U0BOSS", "host", False),  # a coordinator's staff's visit
        ("U0BOSS", "funding", False),
        ("U0BOSS", "supervisor", False),  # the supervisor is told of their own decision: no take-over
    ],
)
def test_a_stuck_notice_offers_no_take_over_of_ones_own_visit(
    lang: str, recipient: str, party: str, offered: bool
) -> None:
    from bot import ids
    from bot.views.reminders import decision_stuck
    from services.outbox.reminders import DueReminder

    reminder = DueReminder(1, "decision_stuck", recipient, 99999, {"party": party, "round": 12}, AT)
    message = decision_stuck(reminder, big_card(), translator(lang))
    check_message(message)
    pressed = [
        e["action_id"] for block in message["blocks"] for e in block.get("elements", []) if "action_id" in e
    ]
    assert ids.REMINDER_AGAIN in pressed
    assert (ids.REMINDER_TAKE_OVER in pressed) is offered
    said = " ".join(str(block) for block in message["blocks"])
    assert (translator(lang)("reminders.stuck.own_visit") in said) is not offered


LONG_LIBRARY = "Kuopion kaupunginkirjasto – Maakuntakirjasto"
LONG_TOPIC = "Omatoimikirjaston käyttöönotto ja asiakasopastus"


def trip_stops(name: str, topic: str, states: tuple[PartyState, ...]) -> tuple[StopInfo, ...]:
    return tuple(
        StopInfo(
            position=n,
            library_id=10 + n,
            library_name=f"{name} {n}",
            topic_id=20 + n,
            topic_names={"fi": topic, "sv": topic, "en": topic},
            state=state,
            slot="morning" if state == PartyState.APPROVED else "",
            contacts=(f"U0STOP{n}",),
        )
        for n, state in enumerate(states, start=2)
    )


TRIP_STATES = (PartyState.APPROVED, PartyState.DECLINED, PartyState.PENDING)


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize(
    "role", ["visitor", "traveller", "supervisor", "host", "funding", "stop2", "stop3", "stop4"]
)
@pytest.mark.parametrize("name", ["N" * 200, LONG_LIBRARY])
def test_a_trip_of_six_travellers_and_four_stops_at_its_largest(lang: str, role: str, name: str) -> None:
    t = translator(lang)
    card = big_card(
        travellers=SIX,
        cost=SIX_COST,
        chosen_date=date(2026, 12, 3),
        host_library_name=name,
        stops=trip_stops(name, LONG_TOPIC, TRIP_STATES),
        straight_km=612.4,
    )
    message = visit_message(card, role, t, today=date(2026, 11, 24))
    check_message(message)
    said = json.dumps(message["blocks"], ensure_ascii=False)
    if name == LONG_LIBRARY:  # every stop is named whole, with its topic
        for n in (2, 3, 4):
            assert f"{LONG_LIBRARY} {n} – {LONG_TOPIC}" in said
    if role == "visitor":  # the declined stop's choices, and the silent one's
        assert said.count('"stop_go_on"') == 2 and said.count('"stop_replace"') == 2
    if role == "stop4":  # the stop still waiting has its buttons; the others do not
        assert '"stop_accept_morning"' in said and '"stop_decline"' in said
    if role in ("stop2", "stop3"):
        assert '"stop_accept_morning"' not in said


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_replace_form_at_its_largest(lang: str) -> None:
    t = translator(lang)
    card = big_card(stops=trip_stops("N" * 200, "T" * 200, TRIP_STATES), chosen_date=date(2026, 12, 3))
    check_view(replace_modal(t, card, 3, [HostChoice(i, "N" * 300, 12.0) for i in range(150)]))
    check_view(replace_modal(t, card, 3, []))
    choices = [StopChoice(i, "N" * 300, i, {"fi": "T" * 200}, 12.0) for i in range(150)]
    assert len(stop_options(choices, t)["options"]) == 100

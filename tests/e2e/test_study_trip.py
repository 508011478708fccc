"""A study trip to several libraries: the proposal names further stops (a library and a topic it
offers), their hosts are asked once the day is agreed with the first host and each takes a slot
of the day or declines; a declined stop is replaced by another library offering its topic, and
the trip is confirmed when every stop has said yes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot import ids
from bot.i18n import translator
from bot.views.desk import csv_labels
from bot.views.limits import check_message, check_view
from bot.views.reminders import decision_stuck
from models import (
    Library,
    LibraryContact,
    PartyState,
    Reminder,
    ReminderStatus,
    Topic,
    Visit,
    VisitStatus,
    VisitStop,
)
from services.common.errors import NotAllowed
from services.ideas import idea_search
from services.money import report_files, reports
from services.outbox.reminders import DueReminder
from services.visits import reminder_buttons, visit_lists
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_decide import approve, press, uploads, value, wait_until
from tests.e2e.visit_helpers import (
    SUPERVISOR,
    VISITOR,
    buttons,
    decisions,
    jsonish,
    library,
    notices_to,
    only_visit,
    posted_to,
    proposal_values,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import date_value, text_value
from tests.find_support import add_offer

RANTA, TERVO, SIILI = "U0RANTA", "U0TERVO", "U0SIILI"


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def stops_value(*pairs: tuple[int, int]) -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": "x"}, "value": f"{lib}:{topic}"} for lib, topic in pairs
    ]
    return {ids.PROPOSE_STOPS: {"type": "multi_external_select", "selected_options": options}}


def propose_trip(bot: Bot, setup: dict[str, Any], *pairs: tuple[int, int]) -> Any:
    values = proposal_values(setup["topic"].id, setup["host"].id, km="260")
    values[ids.PROPOSE_STOPS] = stops_value(*pairs)
    return bot.slack.submit(ids.PROPOSE_VIEW, values)


def trip_setup(bot: Bot) -> dict[str, Any]:
    setup = set_up_people(bot)
    key = setup["topic"].key
    for library_key, contact in (("rantasalmi", RANTA), ("tervo", TERVO), ("siilinjarvi", SIILI)):
        add_offer(bot.session_factory, library_key, [key], bot.clock(), contacts=(contact,))
    setup.update(
        ranta=library(bot.session_factory, "rantasalmi"),
        tervo=library(bot.session_factory, "tervo"),
        siili=library(bot.session_factory, "siilinjarvi"),
    )
    return setup


def day_agreed_with_rantasalmi_asked(bot: Bot) -> tuple[dict[str, Any], Visit]:
    """A trip with one further stop (Rantasalmi, whose contact reads Finnish): the supervisor, the
    first host and funding have said yes, and Rantasalmi has its message."""
    setup = trip_setup(bot)
    bot.api.locales[RANTA] = "fi-FI"
    propose_trip(bot, setup, (setup["ranta"].id, setup["topic"].id))
    bot.api.wait_for("chat.postMessage", count=5)
    visit = only_visit(bot.session_factory)
    for party in ("supervisor", "host", "funding"):
        approve(bot, visit, party)
    wait_until(bot, lambda: posted_to(bot, RANTA))
    return setup, visit


def stops_of(bot: Bot) -> list[tuple[str, PartyState, str, bool]]:
    with bot.session_factory() as session:
        rows = session.scalars(select(VisitStop).order_by(VisitStop.position)).all()
        keys = {lib.id: lib.key for lib in session.scalars(select(Library))}
        return [(keys[s.library_id], s.state, s.slot, s.removed_at is None) for s in rows]


def latest_to(bot: Bot, user: str) -> dict[str, Any]:
    """The newest version of the person's visit message (posted or updated)."""
    channel = "D" + user[1:]
    bodies = [
        c.body
        for c in bot.api.calls
        if c.method in ("chat.postMessage", "chat.update")
        and c.body.get("channel") in (user, channel)
        and jsonish(c.body.get("blocks"))
    ]
    assert bodies, f"no message to {user}"
    return bodies[-1]


def test_the_stops_are_offered_as_library_and_topic_pairs(bot: Bot) -> None:
    setup = trip_setup(bot)
    reply = bot.slack.suggest(ids.PROPOSE_STOPS, "tervo", callback_id=ids.PROPOSE_VIEW)
    options = reply.json()["options"]
    assert [o["value"] for o in options] == [f"{setup['tervo'].id}:{setup['topic'].id}"]
    assert options[0]["text"]["text"].startswith("Tervon kirjasto – ")


def test_a_trip_with_three_stops_where_one_declines_and_is_replaced(bot: Bot) -> None:
    setup = trip_setup(bot)
    topic = setup["topic"].id
    reply = propose_trip(bot, setup, (setup["ranta"].id, topic), (setup["tervo"].id, topic))
    assert reply.json()["response_action"] == "update", reply.text
    bot.api.wait_for("chat.postMessage", count=5)
    visit = only_visit(bot.session_factory)
    assert stops_of(bot) == [
        ("rantasalmi", PartyState.PENDING, "", True),
        ("tervo", PartyState.PENDING, "", True),
    ]
    assert not posted_to(bot, RANTA)  # asked only once the day is agreed with the first host

    for party in ("supervisor", "host", "funding"):
        approve(bot, visit, party)
    wait_until(bot, lambda: posted_to(bot, RANTA) and posted_to(bot, TERVO))
    assert only_visit(bot.session_factory).status == VisitStatus.PROPOSED  # the stops have not answered
    message = latest_to(bot, RANTA)
    check_message({"text": message["text"], "blocks": jsonish(message["blocks"])})
    assert {f"{ids.STOP_ACCEPT}_morning", f"{ids.STOP_ACCEPT}_afternoon", ids.STOP_DECLINE} <= set(
        buttons(message)
    )
    stop2, stop3 = value(visit, 2), value(visit, 3)

    press(bot, f"{ids.STOP_ACCEPT}_morning", stop2, TERVO)  # not Tervo's stop: refused, nothing changes
    bot.api.wait_for("response_url")
    assert stops_of(bot)[0][1] == PartyState.PENDING
    with bot.session_factory.begin() as session:  # the visitor's supervisor is also Rantasalmi's contact
        session.add(
            LibraryContact(library_id=setup["ranta"].id, slack_user_id=SUPERVISOR, added_at=bot.clock())
        )
    press(bot, f"{ids.STOP_ACCEPT}_morning", stop2, SUPERVISOR)  # but decides no library's side of it
    bot.api.wait_for("response_url", count=2)
    assert stops_of(bot)[0][1] == PartyState.PENDING

    press(bot, f"{ids.STOP_ACCEPT}_morning", stop2, RANTA)
    wait_until(bot, lambda: stops_of(bot)[0][1] == PartyState.APPROVED)
    press(bot, ids.STOP_DECLINE, stop3, TERVO)
    wait_until(bot, lambda: stops_of(bot)[1][1] == PartyState.DECLINED)
    assert only_visit(bot.session_factory).status == VisitStatus.PROPOSED  # a declined stop does not sink it
    declined = "Tämä kohde ei voi ottaa vastaan: Tervon kirjasto."
    wait_until(bot, lambda: declined in text_of(latest_to(bot, VISITOR)))
    card = latest_to(bot, VISITOR)
    assert {ids.STOP_GO_ON, ids.STOP_REPLACE, ids.VISIT_CANCEL} <= set(buttons(card))

    press(bot, ids.STOP_REPLACE, stop3, SUPERVISOR)  # only the visitor replaces a stop
    bot.api.wait_for("response_url", count=3)
    press(bot, ids.STOP_REPLACE, stop3, VISITOR)
    form = bot.api.wait_for("views.open")[0].body["view"]
    form = json.loads(form) if isinstance(form, str) else form
    check_view(form)
    offered = [o["value"] for o in form["blocks"][1]["element"]["options"]]
    assert offered == [str(setup["siili"].id)]  # offers the topic, not on the trip already

    reply = bot.slack.submit(
        ids.STOP_REPLACE_VIEW,
        {
            ids.STOP_REPLACE_HOST: {
                ids.STOP_REPLACE_HOST: {"selected_option": {"value": str(setup["tervo"].id)}}
            }
        },
        private_metadata=form["private_metadata"],
    )
    assert "errors" in reply.json()  # Tervo declined: it cannot be chosen again
    reply = bot.slack.submit(
        ids.STOP_REPLACE_VIEW,
        {
            ids.STOP_REPLACE_HOST: {
                ids.STOP_REPLACE_HOST: {"selected_option": {"value": str(setup["siili"].id)}}
            }
        },
        private_metadata=form["private_metadata"],
    )
    assert reply.status == 200 and "errors" not in (reply.json() if reply.text else {}), reply.text
    wait_until(bot, lambda: stops_of(bot)[1] == ("siilinjarvi", PartyState.PENDING, "", True))
    wait_until(bot, lambda: posted_to(bot, SIILI))
    wait_until(bot, lambda: "no longer on the trip" in text_of(latest_to(bot, TERVO)))  # English
    assert ids.STOP_DECLINE not in buttons(latest_to(bot, TERVO))

    press(bot, f"{ids.STOP_ACCEPT}_afternoon", stop3, SIILI)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert stops_of(bot) == [
        ("rantasalmi", PartyState.APPROVED, "morning", True),
        ("siilinjarvi", PartyState.APPROVED, "afternoon", True),
    ]
    assert [d[:3] for d in decisions(bot.session_factory)][-4:] == [
        ("stop", RANTA, "approved"),
        ("stop", TERVO, "declined"),
        ("visitor", VISITOR, "stop_replaced"),
        ("stop", SIILI, "approved"),
    ]
    invites = [Calendar.from_ical(raw) for raw in uploads(bot, 1)]
    location = str(invites[0].walk("VEVENT")[0]["LOCATION"])
    assert location == "Joroisten kirjasto; Rantasalmen kirjasto; Siilinjärven kirjasto"

    # The funding card, the report and the CSV: one traveller, 260 km by car at 0,55 €/km (2026),
    # three libraries visited, each host counted once (Tervo, which declined, not at all).
    funding = text_of(latest_to(bot, COORDINATOR))  # the coordinator reads English
    assert "143.00" in funding and "Study trip, 3 stops" in funding
    day = only_visit(bot.session_factory).chosen_date
    assert day is not None
    built = reports.report(
        bot.session_factory, setup["home"].region_id, day.year, today=day, tz=ZoneInfo("Europe/Helsinki")
    )
    assert (built.total, built.travellers, built.library_visits) == (1, 1, 3)
    assert built.estimated == Decimal("143.00")
    assert sorted(built.by_host) == [
        ("Joroisten kirjasto", 1),
        ("Rantasalmen kirjasto", 1),
        ("Siilinjärven kirjasto", 1),
    ]
    rows = report_files.to_csv(built, "fi", csv_labels(translator("fi"), year=day.year))
    lines = rows.decode("utf-8-sig").splitlines()
    for line in (
        "yhteenveto;kirjastokäyntejä (opintomatkan jokainen kohde);;3;;;;",
        "aihe;lukukoiratoiminta;Lapset ja nuoret;1;;;;",  # the trip's one topic, once
        "kohdekirjasto;Siilinjärven kirjasto;;1;;;;",
        "talous;hyväksytyt arviot;;;;;;143,00",
    ):
        assert line in lines, line
    month = next(line for line in lines if line.startswith(f"kuukausi;{day.year}-{day.month:02d};"))
    assert month.endswith(";1;;;;143,00")
    assert not [line for line in lines if "Tervon kirjasto" in line]


def test_stops_left_out_let_the_trip_go_on_whether_they_declined_or_stay_silent(bot: Bot) -> None:
    setup = trip_setup(bot)
    topic = setup["topic"].id
    propose_trip(bot, setup, (setup["tervo"].id, topic), (setup["ranta"].id, topic))
    bot.api.wait_for("chat.postMessage", count=5)
    visit = only_visit(bot.session_factory)
    press(bot, ids.STOP_GO_ON, value(visit, 3), VISITOR)  # nobody asked yet: nothing to leave out
    bot.api.wait_for("response_url")
    for party in ("supervisor", "host", "funding"):
        approve(bot, visit, party)
    wait_until(bot, lambda: posted_to(bot, TERVO) and posted_to(bot, RANTA))
    press(bot, ids.STOP_DECLINE, value(visit, 2), TERVO)
    wait_until(bot, lambda: stops_of(bot)[0][1] == PartyState.DECLINED)
    press(bot, ids.STOP_GO_ON, value(visit, 2), SUPERVISOR)  # only the visitor (or a coordinator) chooses
    bot.api.wait_for("response_url", count=2)
    assert stops_of(bot)[0][3] is True
    press(bot, ids.STOP_GO_ON, value(visit, 2), VISITOR)
    wait_until(bot, lambda: stops_of(bot)[0][3] is False)
    assert only_visit(bot.session_factory).status == VisitStatus.PROPOSED  # Rantasalmi has not answered
    silent = "Odottaa vastausta: Rantasalmen kirjasto."
    wait_until(bot, lambda: silent in text_of(latest_to(bot, VISITOR)))
    press(bot, ids.STOP_GO_ON, value(visit, 3), VISITOR)  # the silent one: the trip goes on without it
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert stops_of(bot) == [
        ("tervo", PartyState.DECLINED, "", False),
        ("rantasalmi", PartyState.PENDING, "", False),
    ]


def test_a_proposal_refuses_a_stop_that_does_not_offer_its_topic_or_comes_twice(bot: Bot) -> None:
    setup = trip_setup(bot)
    topic = setup["topic"].id
    suonenjoki = library(bot.session_factory, "suonenjoki")
    reply = propose_trip(bot, setup, (suonenjoki.id, topic))
    errors = reply.json()["errors"]
    assert errors[ids.PROPOSE_STOPS] == "Kirjasto ei tarjoa valittua aihetta: Suonenjoen kirjasto."
    reply = propose_trip(bot, setup, (setup["tervo"].id, topic), (setup["tervo"].id, topic))
    assert reply.json()["errors"][ids.PROPOSE_STOPS] == "Sama kirjasto on matkalla kahdesti: Tervon kirjasto."
    with bot.session_factory() as session:
        assert session.scalars(select(Visit)).first() is None  # nothing saved


def test_a_stop_host_sees_the_trip_on_home_with_its_buttons_and_decides_there(bot: Bot) -> None:
    setup = trip_setup(bot)
    propose_trip(bot, setup, (setup["ranta"].id, setup["topic"].id))
    bot.api.wait_for("chat.postMessage", count=5)
    visit = only_visit(bot.session_factory)
    bot.api.locales[RANTA] = "fi-FI"
    bot.slack.home_opened(RANTA)  # not asked yet (the day is not agreed): nothing waits for them
    view = jsonish(bot.api.wait_for("views.publish")[0].body["view"])
    assert f"{ids.STOP_ACCEPT}_morning" not in buttons({"blocks": view["blocks"]})
    said = text_of({"blocks": view["blocks"]})
    assert "Vierailut kirjastoonne" in said and "odottaa matkan muiden kohteiden vastauksia" not in said
    for party in ("supervisor", "host", "funding"):
        approve(bot, visit, party)
    wait_until(bot, lambda: posted_to(bot, RANTA))
    bot.slack.home_opened(RANTA)
    view = jsonish(bot.api.wait_for("views.publish", count=2)[1].body["view"])
    check_view(view)
    home = {"blocks": view["blocks"]}
    accept = buttons(home)[f"{ids.STOP_ACCEPT}_afternoon"]
    bot.slack.action(f"{ids.STOP_ACCEPT}_afternoon", accept["value"], user=RANTA, where="home")
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert stops_of(bot) == [("rantasalmi", PartyState.APPROVED, "afternoon", True)]


def test_a_silent_stop_is_nudged_with_its_buttons_and_its_stuck_notice_offers_no_take_over(bot: Bot) -> None:
    from tests.e2e.test_reminders_flow import sweep_for_bot

    setup, visit = day_agreed_with_rantasalmi_asked(bot)
    settle(bot)
    with bot.session_factory() as session:
        planned = session.scalars(
            select(Reminder).where(Reminder.visit_id == visit.id, Reminder.status == ReminderStatus.PENDING)
        ).all()
        nudges = sorted((r.due_at, r.recipient) for r in planned if r.params.get("party") == "stop2")
        stuck = [r for r in planned if r.kind == "decision_stuck" and r.params.get("party") == "stop2"]
    assert [who for _at, who in nudges] == [RANTA, RANTA, COORDINATOR]  # two nudges, then the coordinator
    assert len(stuck) == 1
    before = len(posted_to(bot, RANTA))
    sweep_for_bot(bot, nudges[0][0])
    nudge = posted_to(bot, RANTA)[before]
    check_message({"text": nudge["text"], "blocks": jsonish(nudge["blocks"])})
    assert "Kirjastonne on yksi matkan kohteista" in text_of(nudge)
    assert f"{ids.STOP_ACCEPT}_morning" in buttons(nudge)

    # The coordinator's notice that it is stuck: reminded again, never taken over (the library's
    # own answer), and a take-over asked for all the same is refused on the server.
    due = DueReminder(stuck[0].id, "decision_stuck", COORDINATOR, visit.id, stuck[0].params, stuck[0].due_at)
    notice = decision_stuck(due, visit_lists.card_of(bot.session_factory, visit.id), translator("en"))
    check_message(notice)
    assert ids.REMINDER_AGAIN in buttons(notice) and ids.REMINDER_TAKE_OVER not in buttons(notice)
    assert "a study trip's stop has not answered" in text_of(notice)
    with bot.session_factory() as session, pytest.raises(NotAllowed):
        reminder_buttons.take_over(session, stuck[0].id, actor=COORDINATOR, is_coordinator=True)

    accept = buttons(nudge)[f"{ids.STOP_ACCEPT}_morning"]
    bot.slack.action(f"{ids.STOP_ACCEPT}_morning", accept["value"], user=RANTA, block_id="b_nudge")
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    with bot.session_factory() as session:
        left = session.scalars(
            select(Reminder).where(
                Reminder.visit_id == visit.id,
                Reminder.status == ReminderStatus.PENDING,
                Reminder.kind.in_(("decision_nudge", "decision_stuck")),
            )
        ).all()
    assert left == []  # answered: nobody is nudged about it any more


def test_the_trips_write_up_is_tagged_with_every_stop_and_found_by_each_host(bot: Bot) -> None:
    from tests.e2e.test_writeups import confirmed_visit, form_values
    from tests.e2e.test_writeups import submit as submit_writeup

    setup = trip_setup(bot)
    with bot.session_factory() as session:
        other = session.scalars(select(Topic).where(Topic.id != setup["topic"].id).order_by(Topic.id)).first()
    assert other is not None
    add_offer(bot.session_factory, "rantasalmi", [other.key], bot.clock(), contacts=(RANTA,))
    visit_id = confirmed_visit(bot, setup)  # a trip that has happened: Joroinen, then Rantasalmi and Tervo
    with bot.session_factory.begin() as session:
        session.add_all(
            [
                VisitStop(
                    visit_id=visit_id,
                    position=2,
                    library_id=setup["ranta"].id,
                    topic_id=other.id,
                    state=PartyState.APPROVED,
                    slot="morning",
                ),
                VisitStop(
                    visit_id=visit_id,
                    position=3,
                    library_id=setup["tervo"].id,
                    topic_id=setup["topic"].id,
                    state=PartyState.APPROVED,
                    slot="afternoon",
                ),
            ]
        )
    submit_writeup(bot, visit_id, form_values(learned="Lukukoirat ja omatoimiaika kolmessa kirjastossa."))
    settle(bot)
    with bot.session_factory() as session:
        for query in ("Rantasalmen", "Tervo", "Joroisten", other.name_fi):
            found = idea_search.search(session, query)
            assert [item.visit_id for item in found.items] == [visit_id], query
            assert [name for name, _topic in found.items[0].stops] == [
                "Rantasalmen kirjasto",
                "Tervon kirjasto",
            ]


def test_a_moved_trip_keeps_its_stop_and_asks_it_again_for_the_new_day(bot: Bot) -> None:
    setup, visit = day_agreed_with_rantasalmi_asked(bot)
    press(bot, f"{ids.STOP_ACCEPT}_morning", value(visit, 2), RANTA)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    settle(bot)
    press(bot, ids.VISIT_MOVE, value(visit), VISITOR)
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    values = {
        f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-16")},
        ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value("260")},
        ids.PROPOSE_TICKETS: {ids.PROPOSE_TICKETS: text_value("0")},
        ids.PROPOSE_ACCOMMODATION: {ids.PROPOSE_ACCOMMODATION: text_value("")},
    }
    assert bot.slack.submit(ids.MOVE_VIEW, values, private_metadata=view["private_metadata"]).json() == {
        "response_action": "clear"
    }
    wait_until(bot, lambda: stops_of(bot) == [("rantasalmi", PartyState.PENDING, "", True)])
    waiting = "kysytään, kun päivä on sovittu"
    wait_until(bot, lambda: waiting in text_of(latest_to(bot, RANTA)))
    assert "ei ole enää matkalla" not in text_of(latest_to(bot, RANTA))  # still on the trip
    assert f"{ids.STOP_ACCEPT}_morning" not in buttons(latest_to(bot, RANTA))  # not before the day
    moved = only_visit(bot.session_factory)
    approve(bot, moved, "host")
    approve(bot, moved, "supervisor")
    asked = "Opintomatkan päivä on sovittu"
    wait_until(bot, lambda: asked in notices_to(bot, RANTA))
    wait_until(bot, lambda: f"{ids.STOP_ACCEPT}_morning" in buttons(latest_to(bot, RANTA)))
    assert only_visit(bot.session_factory).status == VisitStatus.PROPOSED  # the stop answers for the new day
    press(bot, f"{ids.STOP_ACCEPT}_afternoon", value(moved, 2), RANTA)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert str(only_visit(bot.session_factory).chosen_date) == "2026-12-16"

"""Proposing a visit through the real App: the modal, inline errors, and the three requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot import ids
from bot.views.limits import check_message, check_view
from models import Visit, VisitDate
from tests.conftest import COORDINATOR, Bot
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    SUPERVISOR,
    VISITOR,
    buttons,
    count,
    jsonish,
    posted_to,
    proposal_values,
    propose,
    set_up_people,
    settle,
    text_of,
)


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def test_command_opens_the_modal_with_the_per_diem_note_and_topic_guess(bot: Bot) -> None:
    set_up_people(bot)
    reply = bot.slack.command("ehdota omatoimikirjastot")
    assert reply.status == 200
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    check_view(view)
    assert view["callback_id"] == ids.PROPOSE_VIEW
    text = json.dumps(view, ensure_ascii=False)
    assert "Päivärahat" in text and "työnantaja" in text
    topic_block = next(b for b in view["blocks"] if b.get("block_id") == ids.PROPOSE_TOPIC)
    assert topic_block["element"]["initial_option"]["text"]["text"].lower() == "omatoimikirjastot"


def test_propose_button_from_find_results_prefills_host_and_topic(bot: Bot) -> None:
    setup = set_up_people(bot)
    value = json.dumps({"library": setup["host"].id, "topic": setup["topic"].id})
    reply = bot.slack.action(ids.PROPOSE_HOST, value)
    assert reply.status == 200
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.PROPOSE_HOST_SELECT]["element"]["initial_option"]["value"] == str(setup["host"].id)
    assert blocks[ids.PROPOSE_TOPIC]["element"]["initial_option"]["value"] == str(setup["topic"].id)


def test_host_picker_lists_nearest_libraries_first(bot: Bot) -> None:
    set_up_people(bot)
    reply = bot.slack.suggest(ids.PROPOSE_HOST_SELECT, "")
    options = reply.json()["options"]
    assert options and len(options) <= 100
    names = [o["text"]["text"] for o in options]
    assert "Kuopion pääkirjasto" not in names  # not the visitor's own library
    assert names[0] == "Jynkän kirjasto"  # the nearest one to Kuopio's main library
    narrowed = bot.slack.suggest(ids.PROPOSE_HOST_SELECT, "joro").json()["options"]
    assert [o["text"]["text"] for o in narrowed] == ["Joroisten kirjasto"]


def test_wrong_fields_get_inline_errors_in_finnish_and_nothing_is_saved(bot: Bot) -> None:
    setup = set_up_people(bot)
    values = proposal_values(
        setup["topic"].id,
        setup["host"].id,
        dates=("2026-12-05", "2026-12-24", "2026-11-20"),
        supervisor=VISITOR,
        km="paljon",
    )
    reply = bot.slack.submit(ids.PROPOSE_VIEW, values)
    body = reply.json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert "viikonloppu" in errors[f"{ids.PROPOSE_DATE}_1"]
    assert "Jouluaatto" in errors[f"{ids.PROPOSE_DATE}_2"]
    assert "tuleva" in errors[f"{ids.PROPOSE_DATE}_3"]
    assert "esihenkilö" in errors[ids.PROPOSE_SUPERVISOR].lower()
    assert ids.PROPOSE_KM in errors
    assert count(bot.session_factory, Visit) == 0
    assert count(bot.session_factory, VisitDate) == 0
    assert bot.api.of("chat.postMessage") == []


def test_duplicate_date_and_closed_period_are_rejected(bot: Bot) -> None:
    from datetime import date

    from models import ClosedPeriod

    setup = set_up_people(bot)
    with bot.session_factory.begin() as session:
        session.add(
            ClosedPeriod(library_id=setup["host"].id, starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 11))
        )
    values = proposal_values(
        setup["topic"].id, setup["host"].id, dates=("2026-12-02", "2026-12-02", "2026-12-09")
    )
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert f"{ids.PROPOSE_DATE}_1" not in errors
    assert "jo valittu" in errors[f"{ids.PROPOSE_DATE}_2"]
    assert "11.12.2026" in errors[f"{ids.PROPOSE_DATE}_3"]  # the last closed day, as people write it
    assert count(bot.session_factory, Visit) == 0


@pytest.mark.parametrize(
    "supervisor",
    ["U1> <!channel", "U0BOT", "U0BOTHELPER", "U0LEFT", "u0lowercase", "C0CHANNEL", "U" + "0" * 40],
)
def test_a_supervisor_who_is_not_a_person_is_an_inline_error(bot: Bot, supervisor: str) -> None:
    setup = set_up_people(bot)
    bot.api.deactivated.add("U0LEFT")
    values = proposal_values(setup["topic"].id, setup["host"].id, supervisor=supervisor, km="paljon")
    body = bot.slack.submit(ids.PROPOSE_VIEW, values).json()
    assert body["response_action"] == "errors"
    assert "henkilö" in body["errors"][ids.PROPOSE_SUPERVISOR]
    assert ids.PROPOSE_KM in body["errors"]  # the other fields' errors are shown at once too
    assert count(bot.session_factory, Visit) == 0
    assert bot.api.of("chat.postMessage") == []


def test_control_characters_are_dropped_and_the_rest_is_kept(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup, learn="Omatoimi\x00kirjasto\r\nja\tvalvonta\x1b[31m")
    assert visit.learn == "Omatoimikirjasto\nja\tvalvonta[31m"


@pytest.mark.parametrize("learn", ["   ", "\u00a0\u00a0", "\u200b", "\n\t \u3000"])
def test_a_learning_goal_of_spaces_is_still_missing(bot: Bot, learn: str) -> None:
    setup = set_up_people(bot)
    values = proposal_values(setup["topic"].id, setup["host"].id, learn=learn)
    body = bot.slack.submit(ids.PROPOSE_VIEW, values).json()
    assert body["response_action"] == "errors"
    assert ids.PROPOSE_LEARN in body["errors"]
    assert count(bot.session_factory, Visit) == 0


def test_a_date_more_than_eighteen_months_ahead_is_refused(bot: Bot) -> None:
    from datetime import timedelta

    from services.common import workdays

    setup = set_up_people(bot)
    today = workdays.local_today(bot.clock())
    far = workdays.months_after(today, 18) + timedelta(days=1)
    while not workdays.is_working_day(far):
        far += timedelta(days=1)
    near = workdays.months_after(today, 18)
    while not workdays.is_working_day(near):
        near -= timedelta(days=1)
    values = proposal_values(
        setup["topic"].id, setup["host"].id, dates=(far.isoformat(), "9999-12-31", near.isoformat())
    )
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert "18 kuukauden" in errors[f"{ids.PROPOSE_DATE}_1"]
    assert "18 kuukauden" in errors[f"{ids.PROPOSE_DATE}_2"]
    assert f"{ids.PROPOSE_DATE}_3" not in errors  # the last day within the limit is fine
    assert count(bot.session_factory, Visit) == 0


def test_errors_follow_the_users_language(bot: Bot) -> None:
    setup = set_up_people(bot, visitor_lang="en-US")
    values = proposal_values(setup["topic"].id, setup["host"].id, dates=("2026-12-05", None, None))
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert errors[f"{ids.PROPOSE_DATE}_1"] == "That day is a weekend. Choose a working day."


def test_submit_saves_and_asks_all_three_in_their_languages(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    assert visit.status == "proposed" and visit.visitor_id == VISITOR
    assert str(visit.estimated_km) in ("120", "120.0")
    for user in (VISITOR, SUPERVISOR, HOST1, HOST2, COORDINATOR):
        messages = posted_to(bot, user)
        assert len(messages) == 1, user
        check_message({"text": messages[0]["text"], "blocks": jsonish(messages[0]["blocks"])})
    supervisor = posted_to(bot, SUPERVISOR)[0]
    assert set(buttons(supervisor)) == {ids.SUPERVISOR_APPROVE, ids.SUPERVISOR_DECLINE}
    assert buttons(supervisor)[ids.SUPERVISOR_APPROVE]["style"] == "primary"
    decline = buttons(supervisor)[ids.SUPERVISOR_DECLINE]
    assert decline["style"] == "danger" and "confirm" in decline
    host_sv = posted_to(bot, HOST1)[0]
    assert "Besöksförfrågan" in host_sv["text"]  # HOST1 uses Swedish
    assert {f"{ids.HOST_ACCEPT}_1", f"{ids.HOST_ACCEPT}_2", ids.HOST_COUNTER, ids.HOST_DECLINE} == set(
        buttons(host_sv)
    )
    funding = posted_to(bot, COORDINATOR)[0]
    assert "Visit to fund" in funding["text"]
    assert "66.00" in text_of(funding), text_of(funding)  # 120 km x 0.55 EUR/km (2026)
    assert set(buttons(funding)) == {ids.FUNDING_APPROVE, ids.FUNDING_DECLINE}
    visitor = posted_to(bot, VISITOR)[0]
    assert "Vierailusi" in visitor["text"]
    assert ids.VISIT_CANCEL in buttons(visitor)
    # every value carries ids only
    for message in (supervisor, host_sv, funding, visitor):
        for button in buttons(message).values():
            assert all(part.isdigit() for part in button["value"].split(":")), button["value"]


def test_host_picker_puts_libraries_offering_the_topic_first(bot: Bot) -> None:
    from tests.fakes.slack_requests import select_value
    from tests.find_support import add_offer

    setup = set_up_people(bot)
    topic_key = "bookmobile"
    with bot.session_factory() as session:
        from sqlalchemy import select

        from models import Topic

        topic = session.scalar(select(Topic).where(Topic.key == topic_key))
        assert topic is not None
    add_offer(bot.session_factory, "savonlinna", [topic_key], bot.clock())  # far from Kuopio
    add_offer(bot.session_factory, "varkaus", [topic_key], bot.clock())
    state = {ids.PROPOSE_TOPIC: {ids.PROPOSE_TOPIC: select_value(str(topic.id))}}
    options = bot.slack.suggest(ids.PROPOSE_HOST_SELECT, "", state=state).json()["options"]
    names = [o["text"]["text"] for o in options]
    assert names[:2] == ["Varkauden kirjasto", "Savonlinnan kirjasto"]
    assert names[2] == "Jynkän kirjasto"  # then the rest of the region, nearest first
    assert str(setup["home"].id) not in [o["value"] for o in options]


def _next(weekday: int, bot: Bot, *, after: int = 7) -> str:
    """The first date of `weekday` (0 = Monday), at least `after` days after the bot's today,
    that is a working day followed by another (a Friday: followed by its Saturday)."""
    from datetime import timedelta

    from services.common import workdays

    day = workdays.local_today(bot.clock()) + timedelta(days=after)
    while not (
        day.weekday() == weekday
        and workdays.is_working_day(day)
        and (weekday == 4 or workdays.is_working_day(day + timedelta(days=1)))
    ):
        day += timedelta(days=1)
    return day.isoformat()


def test_a_two_day_visit_needs_two_working_days_refused_on_a_friday_accepted_tuesday(bot: Bot) -> None:
    from tests.fakes.slack_requests import select_value

    setup = set_up_people(bot)
    friday, tuesday = _next(4, bot), _next(1, bot)
    values = proposal_values(setup["topic"].id, setup["host"].id, dates=(friday, None, None))
    values[ids.PROPOSE_LENGTH] = {ids.PROPOSE_LENGTH: select_value("two_days")}
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert "toinen päivä" in errors[f"{ids.PROPOSE_DATE}_1"]  # its second day is a Saturday
    assert count(bot.session_factory, Visit) == 0

    values = proposal_values(setup["topic"].id, setup["host"].id, dates=(tuesday, None, None))
    values[ids.PROPOSE_LENGTH] = {ids.PROPOSE_LENGTH: select_value("two_days")}
    reply = bot.slack.submit(ids.PROPOSE_VIEW, values).json()
    assert reply["response_action"] == "update", reply
    with bot.session_factory() as session:
        visit = session.query(Visit).one()
        assert visit.length == "two_days"


def test_a_second_day_in_the_hosts_closed_period_is_refused(bot: Bot) -> None:
    from datetime import date, timedelta

    from models import ClosedPeriod
    from tests.fakes.slack_requests import select_value

    setup = set_up_people(bot)
    tuesday = date.fromisoformat(_next(1, bot))
    with bot.session_factory.begin() as session:  # closed from the Wednesday on
        wednesday = tuesday + timedelta(days=1)
        session.add(ClosedPeriod(library_id=setup["host"].id, starts_on=wednesday, ends_on=wednesday))
    values = proposal_values(setup["topic"].id, setup["host"].id, dates=(tuesday.isoformat(), None, None))
    values[ids.PROPOSE_LENGTH] = {ids.PROPOSE_LENGTH: select_value("two_days")}
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert "toinen päivä" in errors[f"{ids.PROPOSE_DATE}_1"]
    assert count(bot.session_factory, Visit) == 0


def test_a_monday_only_offer_refuses_a_friday_in_the_users_language(bot: Bot) -> None:
    from sqlalchemy import select

    from models import Library
    from tests.find_support import add_offer

    setup = set_up_people(bot, visitor_lang="en-US")
    with bot.session_factory() as session:
        host_key = session.scalar(select(Library.key).where(Library.id == setup["host"].id))
    add_offer(
        bot.session_factory, host_key, [setup["topic"].key], bot.clock(), contacts=(HOST1,), weekdays=0b00001
    )
    values = proposal_values(setup["topic"].id, setup["host"].id, dates=(_next(4, bot), _next(0, bot), None))
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert (
        errors[f"{ids.PROPOSE_DATE}_1"]
        == "The host library takes visitors for this topic on these days only: Mon."
    )
    assert f"{ids.PROPOSE_DATE}_2" not in errors  # the Monday is fine
    assert count(bot.session_factory, Visit) == 0

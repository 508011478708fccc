"""A day that no longer works is never confirmed: a host's accept, a visitor's pick and the last
yes re-check the date against the bot's clock and the host's closed periods at decision time;
when no date given works any more, the visitor is asked for new ones and the host again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot import ids
from models import ClosedPeriod, PartyState, Reminder, ReminderStatus, VisitStatus
from services.common import workdays
from tests.conftest import Bot
from tests.e2e.test_decide import approve, ephemerals, press, value, wait_until
from tests.e2e.visit_helpers import (
    HOST1,
    SUPERVISOR,
    VISITOR,
    buttons,
    last_update_for,
    notices_to,
    only_visit,
    posted_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import date_value


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def working_days(bot: Bot, n: int) -> list[date]:
    """The next `n` working days after the bot's today (not weekends or Finnish holidays)."""
    day, found = workdays.local_today(bot.clock()), []
    while len(found) < n:
        day += timedelta(days=1)
        if workdays.why_not(day, today=workdays.local_today(bot.clock())) is None:
            found.append(day)
    return found


def host_accept_buttons(bot: Bot) -> list[dict]:
    message = posted_to(bot, HOST1)[-1]
    found = buttons(message)
    return [found[key] for key in sorted(found) if key.startswith(ids.HOST_ACCEPT)]


def days_later(bot: Bot, day: date) -> None:
    """Move the bot's clock to noon of `day` in Helsinki."""
    today = workdays.local_today(bot.clock())
    bot.clock.advance(days=(day - today).days)


def test_a_host_accepting_after_the_dates_have_passed_is_refused_and_the_visitor_gives_new_ones(
    bot: Bot,
) -> None:
    setup = set_up_people(bot)
    first, second, *later = working_days(bot, 12)
    visit = propose(bot, setup, dates=(first.isoformat(), second.isoformat(), None))
    approve(bot, visit, "supervisor")
    approve(bot, visit, "funding")
    wait_until(bot, lambda: only_visit(bot.session_factory).funding_state == PartyState.APPROVED)
    accept = host_accept_buttons(bot)[0]  # the host's message, read too late
    days_later(bot, second)  # both days have come: the second is today
    press(bot, accept["action_id"], accept["value"], HOST1)

    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.LAPSED)
    after = only_visit(bot.session_factory)
    assert after.status == VisitStatus.PROPOSED and after.chosen_date is None
    assert not bot.api.of("files.completeUploadExternal")  # no invite for a day in the past
    wait_until(bot, lambda: "eivät enää käy" in notices_to(bot, VISITOR))
    host_message = last_update_for(bot, HOST1)
    assert not [k for k in buttons(host_message) if k.startswith(ids.HOST_ACCEPT)]
    assert "besökaren föreslår nya" in text_of(host_message)  # HOST1 reads Swedish
    visitor_card = last_update_for(bot, VISITOR)
    redate = buttons(visitor_card)[ids.VISIT_REDATE]

    # A stranger cannot open the visitor's form; the visitor can.
    press(bot, ids.VISIT_REDATE, redate["value"], SUPERVISOR)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    assert not bot.api.of("views.open")
    reply = bot.slack.action(ids.VISIT_REDATE, redate["value"], user=VISITOR)
    assert reply.status == 200
    view = bot.api.wait_for("views.open")[-1].body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == ids.REDATE_VIEW

    def submit(*days: str | None) -> dict:
        values = {
            f"{ids.PROPOSE_DATE}_{i}": {f"{ids.PROPOSE_DATE}_{i}": date_value(day)}
            for i, day in enumerate((*days, None, None)[:3], start=1)
        }
        answer = bot.slack.submit(
            ids.REDATE_VIEW, values, user=VISITOR, private_metadata=view["private_metadata"]
        )
        assert answer.status == 200
        return answer.json() if answer.text else {}

    # A past day is refused inline; nothing changes.
    refused = submit((second - timedelta(days=7)).isoformat())
    assert refused["response_action"] == "errors"
    assert only_visit(bot.session_factory).host_state == PartyState.LAPSED
    assert submit(later[5].isoformat()) == {"response_action": "clear"}

    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.PENDING)
    wait_until(bot, lambda: "föreslår nya datum" in notices_to(bot, HOST1))  # the host is told
    assert only_visit(bot.session_factory).round == visit.round + 1
    host_buttons = sorted(buttons(last_update_for(bot, HOST1)).items())
    renewed = [button for key, button in host_buttons if key.startswith(ids.HOST_ACCEPT)]
    assert len(renewed) == 1
    press(bot, accept["action_id"], accept["value"], HOST1)  # the old button counts no more
    press(bot, renewed[0]["action_id"], renewed[0]["value"], HOST1)
    wait_until(bot, lambda: only_visit(bot.session_factory).chosen_date == later[5])
    renewed_visit = only_visit(bot.session_factory)
    assert renewed_visit.status == VisitStatus.PROPOSED  # the supervisor consents to the new day too
    assert renewed_visit.funding_state == PartyState.APPROVED  # it costs no more: funding stands
    press(bot, ids.SUPERVISOR_APPROVE, value(renewed_visit), SUPERVISOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)


def test_a_passed_date_is_refused_while_another_still_works(bot: Bot) -> None:
    setup = set_up_people(bot)
    first, second, third = working_days(bot, 3)
    visit = propose(bot, setup, dates=(first.isoformat(), third.isoformat(), None))
    gone, still = host_accept_buttons(bot)
    days_later(bot, second)  # the first date has passed, the other one is ahead
    press(bot, gone["action_id"], gone["value"], HOST1)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    assert f"Dagen {first.day}.{first.month}. går inte längre" in ephemerals(bot)[-1]  # HOST1 reads Swedish
    after = only_visit(bot.session_factory)
    assert after.host_state == PartyState.PENDING and after.chosen_date is None  # nothing changed
    press(bot, still["action_id"], still["value"], HOST1)
    wait_until(bot, lambda: only_visit(bot.session_factory).chosen_date == third)
    assert only_visit(bot.session_factory).round == visit.round


def test_a_day_the_host_closed_since_the_proposal_is_never_confirmed(bot: Bot) -> None:
    setup = set_up_people(bot)
    first, *_ = working_days(bot, 1)
    propose(bot, setup, dates=(first.isoformat(), None, None))
    with bot.session_factory.begin() as session:
        session.add(
            ClosedPeriod(library_id=setup["host"].id, starts_on=first, ends_on=first, note="remontti")
        )
    (accept,) = host_accept_buttons(bot)
    press(bot, accept["action_id"], accept["value"], HOST1)
    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.LAPSED)
    assert only_visit(bot.session_factory).chosen_date is None
    wait_until(bot, lambda: "eivät enää käy" in notices_to(bot, VISITOR))


def test_a_late_last_yes_after_the_agreed_day_does_not_confirm_a_visit_in_the_past(bot: Bot) -> None:
    setup = set_up_people(bot)
    first, second = working_days(bot, 2)
    visit = propose(bot, setup, dates=(first.isoformat(), None, None))
    approve(bot, visit, "host")
    approve(bot, visit, "funding")
    wait_until(bot, lambda: only_visit(bot.session_factory).funding_state == PartyState.APPROVED)
    days_later(bot, second)
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.LAPSED)
    after = only_visit(bot.session_factory)
    assert after.status == VisitStatus.PROPOSED and after.chosen_date is None
    assert after.supervisor_state == PartyState.APPROVED  # the supervisor's yes stands
    assert not bot.api.of("files.completeUploadExternal")
    assert after.funding_state == PartyState.APPROVED  # the cost did not change


def test_a_late_last_yes_after_the_agreed_day_asks_the_host_again_while_another_date_works(bot: Bot) -> None:
    """Only the agreed day goes: the host picks again among the visitor's dates that still work,
    and the visit is confirmed on that day (the yeses given stand)."""
    setup = set_up_people(bot)
    first, second, third = working_days(bot, 3)
    visit = propose(bot, setup, dates=(first.isoformat(), third.isoformat(), None))
    approve(bot, visit, "host")  # the first date
    approve(bot, visit, "funding")
    wait_until(bot, lambda: only_visit(bot.session_factory).funding_state == PartyState.APPROVED)
    days_later(bot, second)  # the agreed day has passed; the third is ahead
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.PENDING)
    after = only_visit(bot.session_factory)
    assert after.status == VisitStatus.PROPOSED and after.chosen_date is None
    assert after.supervisor_state == PartyState.APPROVED and after.funding_state == PartyState.APPROVED
    assert not bot.api.of("files.completeUploadExternal")
    wait_until(bot, lambda: "Sovittu päivä ei enää käy" in notices_to(bot, VISITOR))
    # The host is asked afresh: a new round with its own nudges and deadline.
    assert after.round == visit.round + 1
    with bot.session_factory() as session:
        planned = session.scalars(
            select(Reminder).where(Reminder.visit_id == visit.id, Reminder.status == ReminderStatus.PENDING)
        ).all()
    host_asks = {
        r.kind for r in planned if r.params.get("party") == "host" and r.params.get("round") == after.round
    }
    assert {"decision_deadline", "decision_stuck"} <= host_asks  # a near day: no nudge after the deadline
    wait_until(bot, lambda: len(host_accept_buttons_updated(bot)) == 1)
    (accept,) = host_accept_buttons_updated(bot)
    assert f"{third.day}.{third.month}." in accept["text"]["text"]
    press(bot, accept["action_id"], accept["value"], HOST1)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert only_visit(bot.session_factory).chosen_date == third


def host_accept_buttons_updated(bot: Bot) -> list[dict]:
    found = buttons(last_update_for(bot, HOST1))
    return [found[key] for key in sorted(found) if key.startswith(ids.HOST_ACCEPT)]

"""Nobody waits forever: a request's deadline is shown on the party's message; at it the visitor
is asked what to do (wait longer, other dates, send it on to the next library that offers the
topic, or withdraw), through signed requests and the reminder sweep at controlled times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot import ids
from bot.views.limits import check_message, check_view
from models import Library, PartyState, Reminder, ReminderStatus, VisitStatus
from services.common import workdays
from services.common.office_hours import add_working_days, next_working_day
from services.visits import deadlines
from tests.conftest import Bot
from tests.e2e.test_dates_lapse import working_days
from tests.e2e.test_decide import approve, ephemerals, press, wait_until
from tests.e2e.test_reminders_flow import sweep_for_bot
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    VISITOR,
    buttons,
    last_update_for,
    only_visit,
    posted_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import select_value, text_value
from tests.find_support import add_offer

TERVO = "U0TERVO"


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def dotted(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=workdays.HELSINKI).astimezone(UTC)


def dm_to(bot: Bot, user: str, action_id: str) -> dict:
    """The newest direct message to `user` with a button `action_id`."""
    return next(m for m in reversed(posted_to(bot, user)) if action_id in buttons(m))


def opened_view(bot: Bot, n: int) -> dict:
    view = bot.api.wait_for("views.open", count=n)[-1].body["view"]
    return json.loads(view) if isinstance(view, str) else view


def a_visit_waiting_for_the_host(bot: Bot, *, day_index: int = 12) -> tuple:
    """Proposed today for a day well ahead, the supervisor and funding said yes; Tervo offers the
    topic too (with its own contact)."""
    setup = set_up_people(bot)
    add_offer(bot.session_factory, "tervo", [setup["topic"].key], bot.clock(), contacts=(TERVO,))
    day = working_days(bot, day_index + 1)[day_index]
    asked_on = workdays.local_today(bot.clock())
    visit = propose(bot, setup, dates=(day.isoformat(), None, None))
    approve(bot, visit, "supervisor")
    approve(bot, visit, "funding")
    wait_until(bot, lambda: only_visit(bot.session_factory).funding_state == PartyState.APPROVED)
    settle(bot)
    return setup, visit, day, asked_on


def test_a_silent_host_lapses_and_the_visitor_sends_the_request_on_to_the_next_library_which_accepts(
    bot: Bot,
) -> None:
    setup, visit, day, asked_on = a_visit_waiting_for_the_host(bot)
    by = add_working_days(asked_on, deadlines.DEFAULT_DAYS)
    # The host's message says by when (HOST1 reads Swedish, HOST2 Finnish).
    assert "Svara senast" in text_of(last_update_for(bot, HOST1))
    assert dotted(by) in text_of(last_update_for(bot, HOST1))
    host_message = text_of(posted_to(bot, HOST2)[-1])
    assert "Vastaathan viimeistään" in host_message and dotted(by) in host_message
    old_accept = next(
        b for k, b in buttons(last_update_for(bot, HOST2)).items() if k.startswith(ids.HOST_ACCEPT)
    )

    # Nothing before the deadline has passed; on the next working day's morning, the visitor's choices.
    lapse = at_nine(next_working_day(by))
    before = sweep_for_bot(bot, lapse - timedelta(minutes=1))
    assert "decision_deadline" not in {r.kind for r in before.sent}
    sent = sweep_for_bot(bot, lapse)
    assert ("decision_deadline", VISITOR) in {(r.kind, r.recipient) for r in sent.sent}
    choices = dm_to(bot, VISITOR, ids.DEADLINE_FORWARD)
    check_message(choices)
    assert "Kohdekirjasto ei vastannut" in text_of(choices) and f"{dotted(by)}" in text_of(choices)
    assert set(buttons(choices)) == {
        ids.DEADLINE_WAIT,
        ids.DEADLINE_FORWARD,
        ids.VISIT_REDATE,
        ids.VISIT_CANCEL,
    }
    forward = buttons(choices)[ids.DEADLINE_FORWARD]

    # Only the visitor may send it on.
    press(bot, ids.DEADLINE_FORWARD, forward["value"], HOST1)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    assert not bot.api.of("views.open")
    press(bot, ids.DEADLINE_FORWARD, forward["value"], VISITOR)
    view = opened_view(bot, 1)
    check_view(view)
    assert view["callback_id"] == ids.FORWARD_VIEW
    select_ = next(b for b in view["blocks"] if b.get("block_id") == ids.FORWARD_HOST)["element"]
    with bot.session_factory() as session:
        tervo = session.scalar(select(Library).where(Library.key == "tervo"))
        assert tervo is not None
        tervo_id = tervo.id
    assert [o["value"] for o in select_["options"]] == [str(tervo_id)]  # not the silent host itself

    def submit(library_id: str, km: str) -> dict:
        values = {
            ids.FORWARD_HOST: {ids.FORWARD_HOST: select_value(library_id)},
            ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value(km)},
        }
        answer = bot.slack.submit(
            ids.FORWARD_VIEW, values, user=VISITOR, private_metadata=view["private_metadata"]
        )
        assert answer.status == 200
        return answer.json() if answer.text else {}

    # A library that does not offer the topic (the host's own), or bad kilometres: refused inline.
    refused = submit(str(setup["host"].id), "120")
    assert refused["response_action"] == "errors" and ids.FORWARD_HOST in refused["errors"]
    assert submit(str(tervo_id), "kaukana")["response_action"] == "errors"
    assert only_visit(bot.session_factory).host_library_id == setup["host"].id  # nothing changed
    assert submit(str(tervo_id), "120") == {"response_action": "clear"}

    wait_until(bot, lambda: only_visit(bot.session_factory).host_library_id == tervo_id)
    moved = only_visit(bot.session_factory)
    assert moved.round == visit.round + 1 and moved.status == VisitStatus.PROPOSED
    # The answers so far go with it: the supervisor's consent and the funding stand.
    assert moved.supervisor_state == PartyState.APPROVED and moved.funding_state == PartyState.APPROVED
    wait_until(bot, lambda: posted_to(bot, TERVO))
    tervo_message = posted_to(bot, TERVO)[-1]
    check_message(tervo_message)
    # The silent host's messages stay current, without buttons, saying where it went.
    wait_until(bot, lambda: "ett annat bibliotek" in text_of(last_update_for(bot, HOST1)))
    wait_until(
        bot, lambda: not [k for k in buttons(last_update_for(bot, HOST2)) if k.startswith(ids.HOST_ACCEPT)]
    )
    # An old button of the silent host counts no more.
    press(bot, old_accept["action_id"], old_accept["value"], HOST2)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 2)
    assert only_visit(bot.session_factory).chosen_date is None
    # The deadline DM's buttons are spent: a second forward is refused.
    press(bot, ids.DEADLINE_FORWARD, forward["value"], VISITOR)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 3)
    assert len(bot.api.of("views.open")) == 1

    accept = next(b for k, b in buttons(tervo_message).items() if k.startswith(ids.HOST_ACCEPT))
    press(bot, accept["action_id"], accept["value"], TERVO)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    confirmed = only_visit(bot.session_factory)
    assert confirmed.chosen_date == day and confirmed.host_library_id == tervo_id
    bot.api.wait_for("files.completeUploadExternal")


def test_waiting_longer_gives_a_new_deadline_and_reminds_the_host_once(bot: Bot) -> None:
    _setup, visit, _day, asked_on = a_visit_waiting_for_the_host(bot)
    by = add_working_days(asked_on, deadlines.DEFAULT_DAYS)
    lapse = at_nine(next_working_day(by))
    sweep_for_bot(bot, lapse)
    wait = buttons(dm_to(bot, VISITOR, ids.DEADLINE_WAIT))[ids.DEADLINE_WAIT]
    press(bot, ids.DEADLINE_WAIT, wait["value"], HOST1)  # not theirs
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    with bot.session_factory() as session:  # refused: no new deadline, nobody reminded
        assert not session.scalars(select(Reminder).where(Reminder.dedupe_key.contains(":wait"))).all()
    press(bot, ids.DEADLINE_WAIT, wait["value"], VISITOR)
    later = add_working_days(workdays.local_today(bot.clock()), deadlines.DEFAULT_DAYS)
    wait_until(bot, lambda: f"{dotted(later)}" in ephemerals(bot)[-1])
    assert "Odotetaan vastausta" in ephemerals(bot)[-1]
    press(bot, ids.DEADLINE_WAIT, wait["value"], VISITOR)  # twice: the same deadline, one reminder
    wait_until(bot, lambda: len(ephemerals(bot)) >= 3)
    assert f"{dotted(later)}" in ephemerals(bot)[-1]
    with bot.session_factory() as session:
        rows = session.scalars(select(Reminder).where(Reminder.visit_id == visit.id)).all()
    waits = [r for r in rows if r.kind == "decision_deadline" and r.params.get("n") == 1]
    assert len(waits) == 1 and waits[0].params["deadline"] == later.isoformat()
    assert waits[0].status == ReminderStatus.PENDING
    now_nudges = [r for r in rows if r.kind == "decision_nudge" and ":wait1:" in r.dedupe_key]
    assert sorted(r.recipient for r in now_nudges) == sorted([HOST1, HOST2])
    sent = sweep_for_bot(bot, bot.clock())
    assert sorted(r.recipient for r in sent.sent if r.kind == "decision_nudge") == sorted([HOST1, HOST2])
    # The host's message shows the new deadline.
    wait_until(bot, lambda: f"{dotted(later)}" in text_of(last_update_for(bot, HOST2)))
    # The host answers after all: the next deadline lapses nothing.
    approve(bot, only_visit(bot.session_factory), "host")
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert "decision_deadline" not in {
        r.kind for r in sweep_for_bot(bot, at_nine(next_working_day(later))).sent
    }


def test_a_near_date_gives_a_deadline_two_working_days_before_it_and_no_waiting_past_it(bot: Bot) -> None:
    setup = set_up_people(bot)
    day = working_days(bot, 5)[4]
    visit = propose(bot, setup, dates=(day.isoformat(), None, None))
    by = deadlines.latest_for(day)
    assert by < add_working_days(workdays.local_today(bot.clock()), deadlines.DEFAULT_DAYS)
    host_message = text_of(posted_to(bot, HOST2)[-1])
    assert "Vastaathan viimeistään" in host_message and dotted(by) in host_message
    settle(bot)
    sweep_for_bot(bot, at_nine(next_working_day(by)))
    choices = dm_to(bot, VISITOR, ids.DEADLINE_WAIT)
    press(bot, ids.DEADLINE_WAIT, buttons(choices)[ids.DEADLINE_WAIT]["value"], VISITOR)
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    assert "liian lähellä" in ephemerals(bot)[-1]  # too near to wait: other dates or withdraw
    assert only_visit(bot.session_factory).round == visit.round

"""Substitutes (sijainen) end to end, through signed requests and the sweep at controlled times:
a supervisor names a substitute on their Home tab, the substitute gets the waiting decision with
its buttons and approves it "on behalf of" the supervisor (the decision log, the audit entry and
every message say so), and on the first working day after the period the supervisor is told
what was decided for them."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.startup import reminder_sweeper
from bot.views.limits import check_message, check_view
from models import AuditEntry, PartyState, Reminder, ReminderStatus, Substitute, Visit, VisitDecision
from services.common.office_hours import add_working_days, next_working_day
from services.common.workdays import HELSINKI, local_today
from tests.conftest import Bot, make_settings
from tests.dates import visit_dates
from tests.e2e.visit_helpers import (
    STRANGER,
    SUPERVISOR,
    VISITOR,
    buttons,
    jsonish,
    last_update_for,
    notices_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import date_value, user_value

DEPUTY = "U0DEPUTY"


def away_values(start: date | None, end: date | None, substitute: str | None) -> dict[str, dict[str, Any]]:
    return {
        ids.AWAY_FROM: {ids.AWAY_FROM: date_value(start.isoformat() if start else None)},
        ids.AWAY_TO: {ids.AWAY_TO: date_value(end.isoformat() if end else None)},
        ids.AWAY_SUBSTITUTE: {ids.AWAY_SUBSTITUTE: user_value(substitute)},
    }


def submit_away(bot: Bot, user: str, start: date | None, end: date | None, substitute: str | None) -> Any:
    reply = bot.slack.submit(ids.AWAY_VIEW, away_values(start, end, substitute), user=user)
    assert reply.status == 200, reply.text
    return reply.json() if reply.text else {}


def sweeper(bot: Bot, db_url: str) -> Any:
    settings = make_settings(db_url, bot.api.url)
    client = WebClient(token="xoxb-test", base_url=bot.api.url)
    return reminder_sweeper(settings, bot.session_factory, client, clock=bot.clock)


def sweep_at(bot: Bot, run: Any, at: datetime) -> Any:
    bot.clock.now = at
    return run(at)


def messages_to(bot: Bot, user: str) -> list[dict[str, Any]]:
    """Every message posted or updated in the person's DM (or posted to their user id)."""
    channel = "D" + user[1:]
    return [
        c.body
        for c in bot.api.calls
        if c.method in ("chat.postMessage", "chat.update") and c.body.get("channel") in (user, channel)
    ]


def test_a_supervisors_substitute_approves_on_their_behalf(bot: Bot, db_url: str) -> None:
    setup = set_up_people(bot)
    bot.api.locales[DEPUTY] = "fi-FI"
    first, second = visit_dates(bot.clock(), 2)
    visit = propose(bot, setup, dates=(first, second, None))
    settle(bot)
    today = local_today(bot.clock())
    run = sweeper(bot, db_url)

    # Nobody else may decide for the supervisor yet.
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=DEPUTY)
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.PENDING

    # The Home tab has the section and its form.
    bot.slack.home_opened(user=SUPERVISOR)
    home = jsonish(bot.api.wait_for("views.publish")[-1].body["view"])
    check_view(home)
    assert "Poissaolo ja sijainen" in text_of(home) and ids.AWAY_OPEN in buttons(home)
    bot.slack.action(ids.AWAY_OPEN, user=SUPERVISOR, where="home")
    form = jsonish(bot.api.wait_for("views.open")[-1].body["view"])
    check_view(form)
    assert form["callback_id"] == ids.AWAY_VIEW

    # The server checks the form, field by field, in the person's language.
    end = today + timedelta(days=7)
    errors = submit_away(bot, SUPERVISOR, today, end, SUPERVISOR)["errors"]
    assert "oma sijaisesi" in errors[ids.AWAY_SUBSTITUTE]
    errors = submit_away(bot, SUPERVISOR, end, today, DEPUTY)["errors"]
    assert ids.AWAY_TO in errors
    errors = submit_away(bot, SUPERVISOR, today - timedelta(days=9), today - timedelta(days=2), DEPUTY)[
        "errors"
    ]
    assert "päättynyt" in errors[ids.AWAY_TO]
    errors = submit_away(bot, SUPERVISOR, today, today + timedelta(days=400), DEPUTY)["errors"]
    assert "enintään" in errors[ids.AWAY_TO]
    errors = submit_away(bot, SUPERVISOR, today, end, VISITOR)["errors"]  # their own trip waits for me
    assert "omasta matkastaan" in errors[ids.AWAY_SUBSTITUTE]
    with bot.session_factory() as session:
        assert session.scalars(select(Substitute)).all() == []

    assert submit_away(bot, SUPERVISOR, today, end, DEPUTY) == {"response_action": "clear"}
    settle(bot)
    assert "nimesi sinut sijaisekseen" in notices_to(bot, DEPUTY) or any(
        "nimesi sinut sijaisekseen" in m.get("text", "") for m in messages_to(bot, DEPUTY)
    )
    home = jsonish(bot.api.of("views.publish")[-1].body["view"])
    assert f"<@{DEPUTY}>" in text_of(home) and ids.AWAY_REMOVE in buttons(home)

    # The decision that was waiting reaches the substitute (through the outbox, by the sweep).
    sweep_at(bot, run, bot.clock() + timedelta(minutes=1))
    settle(bot)
    to_deputy = [m for m in messages_to(bot, DEPUTY) if ids.SUPERVISOR_APPROVE in buttons(m)]
    assert to_deputy, "the substitute got no decision message"
    check_message(to_deputy[-1])
    assert "sijaisena" in text_of(to_deputy[-1]) and SUPERVISOR in text_of(to_deputy[-1])

    # The supervisor's own message says who decides meanwhile (they may still decide too).
    own = [m for m in messages_to(bot, SUPERVISOR) if ids.SUPERVISOR_APPROVE in buttons(m)]
    assert own and "sijaisesi" in text_of(own[-1]) and DEPUTY in text_of(own[-1])

    # A stranger still may not; the substitute may.
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=STRANGER)
    settle(bot)
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=DEPUTY)
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.APPROVED
        decided = session.scalars(select(VisitDecision).where(VisitDecision.party == "supervisor")).all()
        assert [(d.outcome, d.decided_by, d.on_behalf_of) for d in decided] == [
            ("approved", DEPUTY, SUPERVISOR)
        ]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "visit.approved")).one()
        assert entry.actor == DEPUTY and entry.details["on_behalf_of"] == SUPERVISOR
    card = last_update_for(bot, VISITOR)  # the visitor's status card says who, on whose behalf
    assert f"<@{DEPUTY}> sijaisena (poissa: <@{SUPERVISOR}>)" in text_of(card)
    assert ids.SUPERVISOR_APPROVE not in buttons(last_update_for(bot, DEPUTY))  # decided: no buttons

    # Back: on the first working day after the period, at 9:00, the supervisor hears what was decided.
    back = datetime.combine(next_working_day(end), datetime.min.time(), tzinfo=HELSINKI)
    result = sweep_at(bot, run, back + timedelta(hours=8, minutes=59))
    assert not [r for r in result.sent if r.kind == "substitute_back"]
    result = sweep_at(bot, run, back + timedelta(hours=9))
    told = [r for r in result.sent if r.kind == "substitute_back"]
    assert [r.recipient for r in told] == [SUPERVISOR]
    dm = [m for m in messages_to(bot, SUPERVISOR) if "Tervetuloa takaisin" in m.get("text", "")]
    assert len(dm) == 1
    check_message(dm[0])
    assert f"<@{DEPUTY}>" in text_of(dm[0]) and "hyväksytty" in text_of(dm[0])
    result = sweep_at(bot, run, back + timedelta(days=1, hours=9))  # exactly once
    assert not [r for r in result.sent if r.kind == "substitute_back"]
    with bot.session_factory() as session:
        assert session.scalars(select(Substitute)).one().back_told_at is not None


def test_after_the_period_the_substitute_may_not_and_nothing_decided_sends_no_dm(
    bot: Bot, db_url: str
) -> None:
    setup = set_up_people(bot)
    bot.api.locales[DEPUTY] = "en-US"
    first, second = visit_dates(bot.clock(), 2, lead=12)
    today = local_today(bot.clock())
    start, end = today + timedelta(days=1), today + timedelta(days=2)
    assert submit_away(bot, SUPERVISOR, start, end, DEPUTY) == {"response_action": "clear"}
    settle(bot)
    visit = propose(bot, setup, dates=(first, second, None))
    settle(bot)
    run = sweeper(bot, db_url)
    # Before the period: not the substitute's, and they have no message.
    assert not [m for m in messages_to(bot, DEPUTY) if ids.SUPERVISOR_APPROVE in buttons(m)]
    # Its first day: the sweep brings them the waiting decision, with "on behalf of" in English.
    midnight = datetime.combine(start, datetime.min.time(), tzinfo=HELSINKI)
    sweep_at(bot, run, midnight + timedelta(hours=9))
    sweep_at(bot, run, midnight + timedelta(hours=9, minutes=1))
    settle(bot)
    to_deputy = [m for m in messages_to(bot, DEPUTY) if ids.SUPERVISOR_APPROVE in buttons(m)]
    assert len([m for m in to_deputy if "ts" not in m]) <= 1
    assert to_deputy and "substitute of" in text_of(to_deputy[-1])
    # After it: the press is refused, and their message loses its buttons.
    after = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=HELSINKI)
    sweep_at(bot, run, after + timedelta(hours=9))
    sweep_at(bot, run, after + timedelta(hours=9, minutes=1))
    settle(bot)
    assert ids.SUPERVISOR_APPROVE not in buttons(last_update_for(bot, DEPUTY))
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=DEPUTY)
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.PENDING
    # Nothing was decided on the supervisor's behalf: no DM when they are back.
    back = datetime.combine(next_working_day(end), datetime.min.time(), tzinfo=HELSINKI)
    result = sweep_at(bot, run, back + timedelta(hours=9, minutes=5))
    assert not [r for r in result.sent if r.kind == "substitute_back"]
    with bot.session_factory() as session:
        row = session.scalars(select(Reminder).where(Reminder.kind == "substitute_back")).one()
        assert row.status == ReminderStatus.CANCELLED
    assert json.dumps([m.get("text", "") for m in messages_to(bot, SUPERVISOR)]).count("Tervetuloa") == 0


def test_a_new_request_and_its_nudge_go_to_the_substitute_and_removing_brings_them_back(
    bot: Bot, db_url: str
) -> None:
    setup = set_up_people(bot)
    bot.api.locales[DEPUTY] = "fi-FI"
    today = local_today(bot.clock())
    nudge_day = add_working_days(today, 2)  # the first nudge: two working days after the request
    assert submit_away(bot, SUPERVISOR, today, nudge_day, DEPUTY) == {"response_action": "clear"}
    settle(bot)
    first, second = visit_dates(bot.clock(), 2)
    visit = propose(bot, setup, dates=(first, second, None))
    settle(bot)
    # A request made during the period reaches the substitute at once, with its buttons.
    to_deputy = [m for m in messages_to(bot, DEPUTY) if ids.SUPERVISOR_APPROVE in buttons(m)]
    assert to_deputy and "sijaisena" in text_of(to_deputy[-1])
    # Their Home tab lists it among the decisions waiting for them.
    before = len(bot.api.of("views.publish"))
    bot.slack.home_opened(user=DEPUTY)
    home = jsonish(bot.api.wait_for("views.publish", count=before + 1)[-1].body["view"])
    assert home and bot.api.of("views.publish")[-1].body["user_id"] == DEPUTY
    assert "Odottaa päätöstäni" in text_of(home) and f"<@{SUPERVISOR}>" in text_of(home)

    # The nudge due to the supervisor away goes to the substitute, once, with the same buttons.
    run = sweeper(bot, db_url)
    nudge_at = datetime.combine(nudge_day, time(12, 0), tzinfo=HELSINKI)
    sweep_at(bot, run, nudge_at + timedelta(minutes=1))
    sweep_at(bot, run, nudge_at + timedelta(minutes=2))
    with bot.session_factory() as session:
        nudges = session.scalars(
            select(Reminder).where(Reminder.kind == "decision_nudge", Reminder.status == ReminderStatus.SENT)
        ).all()
    assert [r.recipient for r in nudges if r.params.get("party") == "supervisor"] == [DEPUTY]
    nudge = [m for m in messages_to(bot, DEPUTY) if "metadata" in m and "vertais_reminder" in json.dumps(m)]
    assert nudge and ids.SUPERVISOR_APPROVE in buttons(nudge[-1])

    # The supervisor takes the period back on their Home tab: the decision is theirs alone again.
    with bot.session_factory() as session:
        period = session.scalars(select(Substitute)).one()
    bot.slack.action(ids.AWAY_REMOVE, str(period.id), user=DEPUTY, where="home")  # not theirs
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Substitute, period.id) is not None
        assert session.get(Substitute, period.id).ends_on == nudge_day
    bot.slack.action(ids.AWAY_REMOVE, str(period.id), user=SUPERVISOR, where="home")
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Substitute, period.id).ends_on == nudge_day - timedelta(days=1)
    sweep_at(bot, run, bot.clock() + timedelta(minutes=1))
    settle(bot)
    assert ids.SUPERVISOR_APPROVE not in buttons(last_update_for(bot, DEPUTY))
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=DEPUTY)
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.PENDING

"""The Bot Connector failing (TEAMS.md §6 item 6): a 429 or 5xx is retried later, after its
Retry-After, and the retry sends once; a 403 (the app removed by the person) is permanent.

Over the world of tests/teams/test_flow.py (the real Slack and Teams apps, one database), with
the fake connector (tests/fakes/teams_sim.py) told to fail the next call to a conversation."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.startup import reminder_sweeper
from models import Reminder, ReminderStatus, VisitStatus
from services.outbox import visit_outbox
from services.outbox.reminders import RECIPIENT_GONE, SweepResult
from services.visits import visit_reminders
from tests.conftest import COORDINATOR
from tests.e2e.visit_helpers import HOST1, SUPERVISOR, set_up_people, settle
from tests.teams import test_flow
from tests.teams.test_flow import (
    TEAMS_VISITOR,
    World,
    conversation,
    first_date,
    named,
    person_of,
    proposal,
    propose_in_teams,
    the_visit,
)

world = test_flow.world  # the fixture: the real Slack and Teams apps over one database

Sweep = Any  # (now) -> SweepResult


def chat(user: str) -> str:
    """The connector path of a person's 1:1 chat's activities (posts, and updates below it)."""
    return f"/v3/conversations/{conversation(user)}/activities"


def posts(w: World, user: str, *, status: int | None = None, containing: str = "") -> list[Any]:
    """The POSTs of activities to a person's chat (those the connector answered `status`)."""
    return [
        call
        for call in list(w.sim.calls)
        if call.method == "POST"
        and call.path.endswith(chat(user))
        and (status is None or call.status == status)
        and containing in json.dumps(call.body, ensure_ascii=False)
    ]


def sweeper(w: World) -> Sweep:
    bot = w.bot
    return reminder_sweeper(
        bot.deps.settings,
        bot.session_factory,
        WebClient(token="xoxb-test", base_url=bot.api.url),
        notifier=bot.deps.extras["visit_notifier"],
        publisher=bot.deps.extras["writeup_publisher"],
        suggestions=bot.deps.extras["suggestion_notifier"],
        clock=bot.clock,
    )


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def row(w: World, reminder_id: int) -> Reminder:
    with w.bot.session_factory() as session:
        found = session.get(Reminder, reminder_id)
        assert found is not None
        session.expunge(found)
        return found


def reminders_of(w: World, kind: str, **where: Any) -> list[Reminder]:
    with w.bot.session_factory() as session:
        query = select(Reminder).where(Reminder.kind == kind).order_by(Reminder.id)
        for name, value in where.items():
            query = query.where(getattr(Reminder, name) == value)
        found = list(session.scalars(query))
        for reminder in found:
            session.expunge(reminder)
        return found


def ids_of(reminders: list[Any]) -> list[int]:
    return [r.id for r in reminders]


async def confirmed_with_a_teams_visitor(w: World) -> str:
    """A Teams visitor's visit, decided in Slack and confirmed; the visitor's person id."""
    bot = w.bot
    setup = set_up_people(bot)
    named(bot, SUPERVISOR, "Pekka Esihenkilö")
    visitor = await propose_in_teams(w, setup, SUPERVISOR)
    visit = the_visit(bot)
    value = f"{visit.id}:{visit.round}"
    assert bot.slack.action(ids.SUPERVISOR_APPROVE, value, user=SUPERVISOR).status == 200
    assert (
        bot.slack.action(f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}", user=HOST1).status
        == 200
    )
    assert bot.slack.action(ids.FUNDING_APPROVE, value, user=COORDINATOR).status == 200
    settle(bot)
    assert the_visit(bot).status == VisitStatus.CONFIRMED
    return visitor


def day_before_due(w: World, sweep: Sweep, visitor: str) -> tuple[int, datetime]:
    """The visitor's day-before reminder and when it is due, everything due before it swept."""
    (reminder,) = reminders_of(
        w, visit_reminders.DAY_BEFORE, recipient=visitor, status=ReminderStatus.PENDING
    )
    due = utc(reminder.next_attempt_at)
    sweep(due - timedelta(minutes=1))  # whatever else is owed by then goes first
    assert row(w, reminder.id).status == ReminderStatus.PENDING
    return reminder.id, due


def test_a_rate_limited_reminder_waits_retry_after_and_is_sent_once(world: Any) -> None:
    async def test(w: World) -> None:
        visitor = await confirmed_with_a_teams_visitor(w)
        sweep = sweeper(w)
        reminder_id, due = day_before_due(w, sweep, visitor)
        w.sim.fail_next(status=429, headers={"Retry-After": "7"}, path=chat(TEAMS_VISITOR))

        result: SweepResult = sweep(due)
        assert ids_of([r for r, _ in result.retried]) == [reminder_id] and result.sent == []
        assert result.retried[0][1] == "ratelimited"
        limited = row(w, reminder_id)
        assert limited.status == ReminderStatus.PENDING and limited.sent_at is None
        assert limited.attempts == 1 and limited.last_error == "ratelimited"
        assert utc(limited.next_attempt_at) == due + timedelta(seconds=7)  # Retry-After, no sooner
        assert len(posts(w, TEAMS_VISITOR, status=429)) == 1
        assert posts(w, TEAMS_VISITOR, status=200, containing="Hyvää matkaa") == []

        early = sweep(due + timedelta(seconds=6))  # not yet: the connector asked for 7 seconds
        assert reminder_id not in ids_of(early.sent) + ids_of([r for r, _ in early.retried])
        assert posts(w, TEAMS_VISITOR, status=200, containing="Hyvää matkaa") == []

        later = sweep(due + timedelta(seconds=7))  # with the rest of the batch the 429 held back
        assert reminder_id in ids_of(later.sent)
        sent = row(w, reminder_id)
        assert sent.status == ReminderStatus.SENT and sent.sent_at is not None
        assert utc(sent.sent_at) == due + timedelta(seconds=7)

        sweep(due + timedelta(minutes=5))  # and no later sweep sends it again
        assert len(posts(w, TEAMS_VISITOR, status=200, containing="Hyvää matkaa")) == 1
        assert len(posts(w, TEAMS_VISITOR, containing="Hyvää matkaa")) == 2  # the 429, the one sent

    world(test)


async def propose_with_the_card_refused(w: World, status: int) -> tuple[str, int, int]:
    """A Teams visitor proposes (in a dialog) while the connector refuses their chat's next post
    with `status`; (the visitor, the chat's posts before, Slack's chat.postMessage calls before)."""
    bot = w.bot
    setup = set_up_people(bot)
    named(bot, SUPERVISOR, "Pekka Esihenkilö")
    await w.say(TEAMS_VISITOR, "aad-visitor", "apua", name="Tiina Teams-Vierailija")
    settings = {
        "callback_id": ids.SETTINGS_VIEW,
        ids.HOME_LIBRARY: str(setup["home"].id),
        ids.LANGUAGE: "auto",
    }
    await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", settings)
    visitor = person_of(bot, TEAMS_VISITOR)
    before = len(posts(w, TEAMS_VISITOR))
    slack_before = len(bot.api.of("chat.postMessage"))
    w.sim.fail_next(status=status, path=chat(TEAMS_VISITOR))
    done = await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", proposal(setup, SUPERVISOR))
    assert done["task"]["type"] == "message", done
    settle(bot)
    assert the_visit(bot).visitor_id == visitor
    assert [c.status for c in posts(w, TEAMS_VISITOR)[before:]] == [status]
    return visitor, before, slack_before


def to_supervisor(w: World, since: int) -> list[dict[str, Any]]:
    calls = w.bot.api.of("chat.postMessage")[since:]
    return [c.body for c in calls if c.body.get("channel") == SUPERVISOR]


def test_a_visit_card_refused_with_503_stays_owed_and_the_sweep_posts_it_once(world: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        _visitor, before, slack_before = await propose_with_the_card_refused(w, 503)
        visit = the_visit(bot)
        (owed,) = reminders_of(w, visit_outbox.SYNC, visit_id=visit.id)
        assert owed.status == ReminderStatus.PENDING and owed.claim_token is None  # given to the sweep
        assert owed.last_error == "http_503"
        retry_at = utc(owed.next_attempt_at)
        assert retry_at == utc(bot.clock()) + visit_outbox.RETRY_AFTER  # no Retry-After: the outbox's wait

        sweep = sweeper(w)
        result = sweep(retry_at)
        assert ids_of(result.sent) == [owed.id]
        assert row(w, owed.id).status == ReminderStatus.SENT
        cards = [c for c in posts(w, TEAMS_VISITOR)[before:] if c.status == 200]
        assert len(cards) == 1  # the visitor's card, posted once
        assert any("adaptive" in a.get("contentType", "") for a in cards[0].body.get("attachments") or [])
        assert len(to_supervisor(w, slack_before)) == 1  # by now at the latest

        sweep(retry_at + timedelta(minutes=5))  # no duplicate after the retry, on either side
        settle(bot)
        assert len([c for c in posts(w, TEAMS_VISITOR)[before:] if c.status == 200]) == 1
        assert len(to_supervisor(w, slack_before)) == 1

    world(test)


def test_a_refused_teams_card_does_not_hold_back_the_slack_people(world: Any) -> None:
    async def test(w: World) -> None:
        _visitor, _before, slack_before = await propose_with_the_card_refused(w, 503)
        assert len(to_supervisor(w, slack_before)) == 1  # at once, not after the retry

    world(test)


def test_a_403_is_permanent_logged_and_not_retried(world: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def test(w: World) -> None:
        visitor = await confirmed_with_a_teams_visitor(w)
        sweep = sweeper(w)
        reminder_id, due = day_before_due(w, sweep, visitor)
        w.sim.fail_next(status=403, path=chat(TEAMS_VISITOR), times=100)  # the app is gone for good

        with caplog.at_level(logging.WARNING):
            result = sweep(due)
        assert [(r.id, why) for r, why in result.failed] == [(reminder_id, "http_403")]
        failed = row(w, reminder_id)
        assert failed.status == ReminderStatus.FAILED and failed.last_error == "http_403"
        assert failed.sent_at is None
        # The coordinators are told instead (a recipient_gone reminder), once.
        told = [r for r in reminders_of(w, RECIPIENT_GONE) if r.params.get("recipient") == visitor]
        assert len(told) >= 1 and all(r.params.get("reason") == "http_403" for r in told)

        refused = len(posts(w, TEAMS_VISITOR, status=403))
        assert refused == 1
        for minutes in (1, 10, 60, 24 * 60):  # no sweep tries it again
            sweep(due + timedelta(minutes=minutes))
        assert len(posts(w, TEAMS_VISITOR, status=403)) == refused
        assert row(w, reminder_id).status == ReminderStatus.FAILED
        assert "http_403" in caplog.text

    world(test)


def test_a_visit_card_refused_with_403_is_logged_and_not_owed(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        with caplog.at_level(logging.WARNING):
            _visitor, before, slack_before = await propose_with_the_card_refused(w, 403)
        assert "http_403" in caplog.text
        visit = the_visit(bot)
        (owed,) = reminders_of(w, visit_outbox.SYNC, visit_id=visit.id)
        assert owed.status == ReminderStatus.SENT  # nothing passing failed: nothing left to retry
        assert len(to_supervisor(w, slack_before)) == 1  # a permanent failure stops nobody else's

        sweep = sweeper(w)
        for minutes in (1, 10, 60):
            sweep(utc(bot.clock()) + timedelta(minutes=minutes))
        assert [c.status for c in posts(w, TEAMS_VISITOR)[before:]] == [403]

    world(test)

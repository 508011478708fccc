"""A write-up's notices (to the host contacts and coordinators, and to the author when a
coordinator hides or publishes it) and a suggested topic's DM to the coordinators, when Slack
takes the message and its answer is lost (the connection closes, or the answer comes after the
client gave up), when the request dies after Slack took them, and when the first attempt truly
failed. The sweep's retry looks in the person's DM (by the message's metadata) before sending
again: nobody gets the same message twice, and everyone gets it once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.suggestion_notifier import SUGGESTION_EVENT
from bot.writeup_publisher import TELL, WRITEUP_NOTICE_EVENT
from models import ReminderStatus, TopicSuggestion, WriteUp
from services.outbox import visit_outbox
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_faults import (  # the bot with a short SLACK_TIMEOUT, healed and settled after each test
    CLIENT_TIMEOUT,
    IDEAS,
    LOST_ANSWERS,
    Crash,
    _quiet_at_the_end,  # noqa: F401  (a fixture)
    bot_settings,  # noqa: F401  (a fixture)
    in_slack,
    outbox,
    press,
    submit_writeup,
    sweep,
    wait_settled,
)
from tests.e2e.test_offer import suggest_topic
from tests.e2e.test_writeups import confirmed_visit
from tests.e2e.visit_helpers import HOST1, HOST2, VISITOR, set_up_people, settle
from tests.fakes.slack_api import Failure, timeout
from tests.fakes.slack_requests import text_value

TITLE = "Lukukoira kirjastossa"
# A time-out of a post that Slack never took (the bot cannot tell it from a lost answer).
NEVER_REACHED = timeout(CLIENT_TIMEOUT * 4)
# The first attempt's fault: Slack took the message and the answer was lost (found by the
# retry), or the message never reached Slack (the retry looks, finds nothing, and sends it).
FIRST_FAULTS: dict[str, Callable[[], Failure]] = {**LOST_ANSWERS, "never reached": lambda: NEVER_REACHED}
# Whose message fails: a host contact's or a coordinator's write-up notice (the 3rd and 4th posts
# of a submission, after the idea-bank post), the author's notice, a suggestion's DM.
KINDS = ("contact", "coordinator", "author", "suggestion")


def dm(user: str) -> str:
    return "D" + user[1:]


def held(bot: Bot, event_type: str) -> dict[str, list[dict[str, Any]]]:
    """The messages of this metadata event type that Slack holds, per DM (those with any)."""
    return {channel: found for channel, found in in_slack(bot, event_type).items() if found}


def writeup_id(bot: Bot) -> int:
    with bot.session_factory() as session:
        return session.scalars(select(WriteUp.id)).one()


def submitted_writeup(bot: Bot, fault: Failure | None = None, nth: int = 1) -> None:
    """The visitor submits a published write-up: the idea-bank post, then the notices to the host
    contacts and the coordinator (the `nth` post fails with `fault`)."""
    setup = set_up_people(bot)
    visit_id = confirmed_visit(bot, setup)
    if fault is not None:
        bot.api.fail_nth("chat.postMessage", nth, fault)
    submit_writeup(bot, visit_id, TITLE)
    wait_settled(bot, 1, kind=visit_outbox.WRITEUP_SYNC)


def hide(bot: Bot, fault: Failure | None) -> None:
    """The coordinator hides the write-up (the author's notice, the only post, fails with `fault`)."""
    bot.slack.action(ids.WRITEUP_HIDE, str(writeup_id(bot)), user=COORDINATOR)
    bot.api.wait_for("views.open")
    rows = len(outbox(bot, visit_outbox.WRITEUP_SYNC))
    if fault is not None:
        bot.api.fail_next("chat.postMessage", fault)
    reply = bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("Sisältää henkilötietoja")}},
        user=COORDINATOR,
        private_metadata=json.dumps({"writeup": writeup_id(bot)}),
    )
    assert reply.status == 200 and "errors" not in (reply.text or "")
    wait_settled(bot, rows + 1, kind=visit_outbox.WRITEUP_SYNC)
    settle(bot)  # the coordinator's answer, after the row


def publish_for_author(bot: Bot, fault: Failure | None) -> None:
    rows = len(outbox(bot, visit_outbox.WRITEUP_SYNC))
    if fault is not None:
        bot.api.fail_next("chat.postMessage", fault)
    press(bot, ids.WRITEUP_PUBLISH_FOR, str(writeup_id(bot)), COORDINATOR)
    wait_settled(bot, rows + 1, kind=visit_outbox.WRITEUP_SYNC)
    settle(bot)  # the coordinator's answer, after the row


def first_attempt(bot: Bot, kind: str, fault: Failure | None) -> str:
    """Do what sends the kind's message, its first attempt failing with `fault`; the row kind of
    its outbox."""
    if kind in ("contact", "coordinator"):
        submitted_writeup(bot, fault, nth=3 if kind == "contact" else 4)
        return visit_outbox.WRITEUP_SYNC
    if kind == "author":
        submitted_writeup(bot)
        hide(bot, fault)
        return visit_outbox.WRITEUP_SYNC
    if fault is not None:
        bot.api.fail_next("chat.postMessage", fault)
    suggest_topic(bot)
    wait_settled(bot, 1, kind=visit_outbox.SUGGESTION_SYNC)
    return visit_outbox.SUGGESTION_SYNC


def check_held_once(bot: Bot, kind: str) -> None:
    """Each person got the kind's message once, and Slack holds it tagged with what it is about."""
    posts = Counter(c.body["channel"] for c in bot.api.delivered("chat.postMessage"))
    if kind == "suggestion":
        assert posts == Counter([COORDINATOR])
        with bot.session_factory() as session:
            suggestion = session.scalars(select(TopicSuggestion.id)).one()
        assert held(bot, SUGGESTION_EVENT).keys() == {dm(COORDINATOR)}
        [message] = held(bot, SUGGESTION_EVENT)[dm(COORDINATOR)]
        assert message["metadata"]["event_payload"] == {"suggestion_id": suggestion}
        return
    rows = outbox(bot, visit_outbox.WRITEUP_SYNC)
    notices = held(bot, WRITEUP_NOTICE_EVENT)
    if kind == "author":  # (the coordinator who hid it may have had "saved, the rest follows")
        assert posts[VISITOR] == 1
        [message] = notices[dm(VISITOR)]
        assert message["metadata"]["event_payload"] == {
            "writeup_id": writeup_id(bot),
            "notice": "hidden",
            "outbox_id": rows[-1].id,
        }
        assert "henkilötietoja" in message["text"]
        return
    assert posts == Counter([IDEAS, HOST1, HOST2, COORDINATOR])  # the post and each notice, once
    assert {channel: len(found) for channel, found in notices.items()} == {
        dm(HOST1): 1,
        dm(HOST2): 1,
        dm(COORDINATOR): 1,
    }
    for [message] in notices.values():
        assert message["metadata"]["event_payload"] == {
            "writeup_id": writeup_id(bot),
            "notice": TELL,
            "outbox_id": rows[0].id,
        }


def check_a_decision_updates_it(bot: Bot) -> None:
    """The coordinator rejects the suggestion: the DM that Slack holds (found or posted by the
    retry) shows the decision, no longer its buttons."""
    [message] = held(bot, SUGGESTION_EVENT)[dm(COORDINATOR)]
    with bot.session_factory() as session:
        suggestion = session.scalars(select(TopicSuggestion)).one()
        remembered = [f"{dm(COORDINATOR)} {message['ts']} {COORDINATOR}"]  # where, and to whom
        assert suggestion.messages.splitlines() == remembered
    bot.slack.action(ids.SUGGESTION_REJECT, str(suggestion.id), user=COORDINATOR)
    updates = bot.api.wait_for("chat.update")
    settle(bot)
    assert any(
        c.body.get("channel") == dm(COORDINATOR) and c.body.get("ts") == message["ts"] for c in updates
    )
    [message] = held(bot, SUGGESTION_EVENT)[dm(COORDINATOR)]
    assert [b for b in message["blocks"] if b["type"] == "actions"] == []  # decided: no buttons


# --- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", FIRST_FAULTS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_notice_whose_first_attempt_failed_reaches_its_person_once(bot: Bot, kind: str, fault: str) -> None:
    """The first attempt's answer is lost after Slack posted it (the sweep finds it in the DM and
    does not post it again) or it never reached Slack (the sweep looks and posts it once)."""
    row_kind = first_attempt(bot, kind, FIRST_FAULTS[fault]())
    assert outbox(bot, row_kind)[-1].status == ReminderStatus.PENDING  # the bot does not know
    bot.api.heal()
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    assert {r.status for r in outbox(bot, row_kind)} == {ReminderStatus.SENT}
    check_held_once(bot, kind)
    assert len(bot.api.of("conversations.history")) == 1  # looked for the unanswered one only
    if kind == "suggestion":
        check_a_decision_updates_it(bot)
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []


@pytest.mark.parametrize("fault", FIRST_FAULTS)
def test_the_author_notice_of_a_later_change_is_not_taken_for_the_earlier_one(bot: Bot, fault: str) -> None:
    """Hidden (its notice's first attempt failing), then published again with a notice that never
    reached Slack: the sweep's look-up for the second does not take the first for it."""
    first_attempt(bot, "author", FIRST_FAULTS[fault]())
    bot.api.heal()
    bot.clock.advance(minutes=2)
    sweep(bot)
    looked = len(bot.api.of("conversations.history"))
    publish_for_author(bot, NEVER_REACHED)
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    assert len(bot.api.of("conversations.history")) == looked + 1  # it looked, and found none
    assert {r.status for r in outbox(bot, visit_outbox.WRITEUP_SYNC)} == {ReminderStatus.SENT}
    rows = outbox(bot, visit_outbox.WRITEUP_SYNC)
    notices = [m["metadata"]["event_payload"] for m in held(bot, WRITEUP_NOTICE_EVENT)[dm(VISITOR)]]
    assert notices == [
        {"writeup_id": writeup_id(bot), "notice": "hidden", "outbox_id": rows[1].id},
        {"writeup_id": writeup_id(bot), "notice": "published", "outbox_id": rows[2].id},
    ]


@pytest.mark.parametrize("kind", ("coordinator", "author", "suggestion"))
def test_a_crash_after_slack_took_the_notices_sends_none_again(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The request dies after every message went out, before it could note that: the sweep takes
    its outbox row over when the claim expires and finds each message in its person's DM."""

    def die(*args: Any, **kwargs: Any) -> bool:
        raise Crash

    if kind == "author":
        submitted_writeup(bot)
    monkeypatch.setattr(visit_outbox, "delivered", die)
    if kind == "author":
        bot.slack.action(ids.WRITEUP_HIDE, str(writeup_id(bot)), user=COORDINATOR)
        bot.api.wait_for("views.open")
        bot.slack.submit(
            ids.WRITEUP_HIDE_VIEW,
            {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value("Sisältää henkilötietoja")}},
            user=COORDINATOR,
            private_metadata=json.dumps({"writeup": writeup_id(bot)}),
        )
        bot.api.wait_for("chat.postMessage", count=5)  # the submission's four, the author's notice
        row_kind = visit_outbox.WRITEUP_SYNC
    elif kind == "coordinator":
        setup = set_up_people(bot)
        submit_writeup(bot, confirmed_visit(bot, setup), TITLE)
        bot.api.wait_for("chat.postMessage", count=4)
        row_kind = visit_outbox.WRITEUP_SYNC
    else:
        suggest_topic(bot)
        bot.api.wait_for("chat.postMessage")
        row_kind = visit_outbox.SUGGESTION_SYNC
    settle(bot)
    monkeypatch.undo()
    assert outbox(bot, row_kind)[-1].claim_token is not None  # still the dead request's
    bot.clock.advance(minutes=10)
    assert len(sweep(bot).sent) == 1
    assert {r.status for r in outbox(bot, row_kind)} == {ReminderStatus.SENT}
    check_held_once(bot, kind)
    if kind == "suggestion":
        check_a_decision_updates_it(bot)


@pytest.mark.parametrize("kind", ("coordinator", "author", "suggestion"))
def test_a_notice_is_sent_when_slack_refuses_the_look_up(bot: Bot, kind: str) -> None:
    """The app was installed before it asked for im:history: the look-up for an unanswered
    message is refused, and the message is sent all the same (twice is better than never)."""
    row_kind = first_attempt(bot, kind, NEVER_REACHED)
    bot.api.fail_next("conversations.history", Failure(error="missing_scope"))
    bot.clock.advance(minutes=2)
    assert len(sweep(bot).sent) == 1
    assert bot.api.of("conversations.history")  # it looked
    assert {r.status for r in outbox(bot, row_kind)} == {ReminderStatus.SENT}
    check_held_once(bot, kind)

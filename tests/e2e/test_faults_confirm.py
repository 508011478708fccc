"""Issue 22's second loss report, replayed: the three parties approve while Slack is slow to
take files (files.completeUploadExternal answers after 2 s) and the first two chat.postMessage
calls answer 500. Every message of the visit, every notice and every invite reaches its person
exactly once after the sweeps. The confirmation's notice is the invite's comment (one message
with the .ics attached, in the person's language), not a second message beside it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from bot.i18n import translator
from bot.views.formatting import day_text
from models import ReminderStatus
from services.visits import visit_lists
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_faults import (
    PEOPLE,
    check_delivered_once,
    check_state,
    invites_in_slack,
    notices,
    outbox,
    step,
    sweep,
    wait_settled,
)
from tests.e2e.visit_helpers import HOST1, HOST2, SUPERVISOR, VISITOR, only_visit, set_up_people, settle
from tests.fakes.slack_api import server_error

LANGUAGE = {VISITOR: "fi", SUPERVISOR: "fi", HOST1: "sv", HOST2: "fi", COORDINATOR: "en"}


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    bot.api.heal()
    settle(bot)


@pytest.mark.parametrize("from_step", ["propose", "supervisor"])
def test_slow_uploads_and_two_failed_posts_lose_no_confirmation_notice(bot: Bot, from_step: str) -> None:
    """The faults begin with the proposal, or with the approvals (the proposal went out)."""
    setup = set_up_people(bot)
    steps = ("propose", "supervisor", "host", "funding")
    for n, name in enumerate(steps, start=1):
        if name == from_step:
            before = len(bot.api.of("chat.postMessage"))
            bot.api.answer_delay["files.completeUploadExternal"] = 2.0  # slow, within SLACK_TIMEOUT
            bot.api.fail_next("chat.postMessage", server_error(), times=2)
        step(bot, setup, name)
        wait_settled(bot, n)
    check_state(bot, "funding")
    posts = bot.api.of("chat.postMessage")[before:]
    if from_step == "propose":
        assert [c.ok for c in posts][:2] == [False, False]  # the two 500s: two visit messages
    else:  # the approvals post nothing: they update the messages, and the confirmation's
        assert posts == []  # notices go as the invites' comments (the two 500s never come)
    assert len(invites_in_slack(bot)) == len(PEOPLE)  # slow, but every invite went out at once
    bot.api.heal()
    for _ in range(2):
        bot.clock.advance(minutes=2)
        sweep(bot)
    assert {r.status for r in outbox(bot)} == {ReminderStatus.SENT}
    check_delivered_once(bot, "funding")  # each message, notice and invite once
    card = visit_lists.card_of(bot.session_factory, only_visit(bot.session_factory).id)
    invites = Counter(
        (channel, text.removeprefix("invite: "))
        for (channel, text) in notices(bot)
        if text.startswith("invite: ")
    )
    for person in PEOPLE:
        t = translator(LANGUAGE[person])
        told = t(
            "visits.notice.confirmed",
            topic=card.topic(t.lang),
            host=card.host_library_name,
            date=day_text(card.chosen_date, t),
            visitor=f"<@{card.visitor_id}>",
        )
        assert invites[("D" + person[1:], told)] == 1, (person, invites)
        # ... and not a second time as a message of its own beside the invite
        assert ("D" + person[1:], told) not in {
            (c.body["channel"], c.body.get("text")) for c in bot.api.delivered("chat.postMessage")
        }
    bot.clock.advance(hours=1)
    assert sweep(bot).sent == []  # nothing is sent again

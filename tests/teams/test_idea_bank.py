"""The idea bank in a Teams channel (TEAMS_IDEA_BANK_CONVERSATION) as well as Slack's: a write-up
published from either platform reaches both; an edit updates the Teams post, a coordinator's
hide replaces it; a second delivery of the outbox row posts nothing twice; a connector failure
leaves the post owed and the sweep posts it once. The world of tests/teams/test_flow.py: the real
Slack app over the fake Web API, the real Teams app and the fake Bot Connector, one database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from models import Reminder, ReminderStatus, WriteUp, WriteUpStatus
from services.ideas import writeups
from services.outbox.reminders import DueReminder
from services.outbox.visit_outbox import WRITEUP_SYNC
from teams.cards.limits import check_card
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_faults import sweep
from tests.e2e.test_writeups import IDEAS, channel_posts, confirmed_visit, form_values, submit
from tests.e2e.visit_helpers import set_up_people, settle, text_of
from tests.fakes.slack_requests import text_value
from tests.teams.test_flow import TEAMS_VISITOR, World, person_of, world  # noqa: F401  (a fixture)

TEAMS_IDEAS = "19:ideabank0123456789@thread.tacv2"


@pytest.fixture
def bank(world: Any, bot: Bot) -> Iterator[Any]:  # noqa: F811
    """The world, with the Teams idea-bank channel set as the composition root sets it."""
    publisher = bot.deps.extras["writeup_publisher"]
    publisher.teams_channel = TEAMS_IDEAS
    yield world


def channel_calls(w: World, method: str) -> list[Any]:
    """The connector calls for the Teams idea-bank channel that succeeded."""
    return [
        call
        for call in list(w.sim.calls)
        if call.method == method
        and f"/v3/conversations/{TEAMS_IDEAS}/activities" in call.path
        and call.status == 200
    ]


def card_of(call: Any) -> dict[str, Any]:
    (attachment,) = call.body["attachments"]
    card: dict[str, Any] = attachment["content"]
    assert check_card(card) == []
    return card


def shown(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def the_writeup(bot: Bot) -> WriteUp:
    with bot.session_factory() as session:
        found = session.scalar(select(WriteUp))
        assert found is not None
        return found


def outbox_row(bot: Bot) -> Reminder:
    with bot.session_factory() as session:
        return session.scalars(select(Reminder).where(Reminder.kind == WRITEUP_SYNC)).one()


def due(row: Reminder) -> DueReminder:
    return DueReminder(
        id=row.id,
        kind=row.kind,
        recipient=row.recipient,
        visit_id=row.visit_id,
        params=dict(row.params),
        due_at=row.due_at,
    )


def hide(bot: Bot, writeup_id: int, reason: str) -> None:
    bot.slack.action(ids.WRITEUP_HIDE, str(writeup_id), user=COORDINATOR)
    bot.api.wait_for("views.open")
    bot.slack.submit(
        ids.WRITEUP_HIDE_VIEW,
        {ids.WRITEUP_HIDE_REASON: {ids.WRITEUP_HIDE_REASON: text_value(reason)}},
        user=COORDINATOR,
        private_metadata=json.dumps({"writeup": writeup_id}),
    )
    settle(bot)


def test_published_from_slack_it_reaches_both_and_follows_edits_and_hiding(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        visit_id = confirmed_visit(bot, set_up_people(bot))
        submit(bot, visit_id, form_values())
        settle(bot)
        assert [p for p in channel_posts(bot) if "Lukukoira kirjastossa" in text_of(p)]  # Slack's
        (post,) = channel_calls(w, "POST")  # and Teams'
        assert "Lukukoira kirjastossa" in shown(card_of(post))
        saved = the_writeup(bot)
        assert saved.channel == IDEAS and saved.teams_activity_id
        assert outbox_row(bot).status == ReminderStatus.SENT

        # An edit updates the Teams post in place.
        submit(bot, visit_id, form_values(title="Lukukoira kirjastossa, korjattu"))
        settle(bot)
        assert len(channel_calls(w, "POST")) == 1
        updates = channel_calls(w, "PUT")
        assert updates and updates[-1].path.endswith(f"/activities/{saved.teams_activity_id}")
        assert "korjattu" in shown(card_of(updates[-1]))

        # A coordinator hides it: the Teams post is replaced by the hidden message.
        hide(bot, saved.id, "Sisältää henkilötietoja")
        assert the_writeup(bot).status == WriteUpStatus.HIDDEN
        last = channel_calls(w, "PUT")[-1]
        card = shown(card_of(last))
        assert last.path.endswith(f"/activities/{saved.teams_activity_id}")
        assert "Lukukoira" not in card and "poistanut" in card
        assert len(channel_calls(w, "POST")) == 1

    bank(test)


def test_published_from_a_teams_dialog_it_reaches_both(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        await w.say(TEAMS_VISITOR, "aad-visitor", "apua", name="Tiina Teams-Vierailija")
        visitor = person_of(bot, TEAMS_VISITOR)
        visit_id = confirmed_visit(bot, setup, visitor=visitor)
        opened = await w.dialog_open(TEAMS_VISITOR, "aad-visitor", ids.WRITEUP_OPEN, str(visit_id))
        assert check_card(opened["task"]["value"]["card"]["content"]) == []
        data = {
            "callback_id": ids.WRITEUP_VIEW,
            "private_metadata": json.dumps({"visit": visit_id}),
            ids.WRITEUP_TITLE: "Omatoimikirjasto toimii",
            ids.WRITEUP_LEARNED: "Opimme, miten omatoimiaikaa valvotaan ja miten asiakkaat opastetaan.",
            ids.WRITEUP_TRY: "Kokeilemme opastusta.",
            ids.WRITEUP_TIPS: "",
            ids.WRITEUP_RECOMMEND: "yes",
            ids.WRITEUP_LINK: "",
            ids.WRITEUP_PUBLISH: "yes",
        }
        done = await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", data)
        assert done["task"]["type"] == "message", done
        settle(bot)
        posts = [p for p in channel_posts(bot) if "Omatoimikirjasto toimii" in text_of(p)]
        assert posts and f"<@{visitor}>" not in json.dumps(posts)  # Slack's, no broken mention
        (post,) = channel_calls(w, "POST")
        card = shown(card_of(post))
        assert "Omatoimikirjasto toimii" in card and "Tiina Teams-Vierailija" in card  # named
        assert "Tiina Teams-Vierailija" in text_of(posts[-1])
        assert f"<@{visitor}>" not in card
        assert the_writeup(bot).teams_activity_id

    bank(test)


def test_a_teams_only_idea_bank(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        publisher = bot.deps.extras["writeup_publisher"]
        publisher.channel = ""  # IDEA_BANK_CHANNEL empty
        visit_id = confirmed_visit(bot, set_up_people(bot))
        submit(bot, visit_id, form_values())
        settle(bot)
        assert channel_posts(bot) == []
        (post,) = channel_calls(w, "POST")
        assert "Lukukoira kirjastossa" in shown(card_of(post))
        assert the_writeup(bot).channel is None and outbox_row(bot).status == ReminderStatus.SENT

    bank(test)


def test_two_deliveries_of_one_outbox_row_post_once(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        publisher = bot.deps.extras["writeup_publisher"]
        visit_id = confirmed_visit(bot, set_up_people(bot))
        submit(bot, visit_id, form_values())
        settle(bot)
        row = due(outbox_row(bot))
        publisher.deliver_owed(row)  # delivered again (a sweep that took over, say)
        publisher.deliver_owed(row)
        assert len(channel_calls(w, "POST")) == 1
        assert len(channel_calls(w, "PUT")) == 2  # kept current, not posted again

    bank(test)


def test_a_post_in_flight_elsewhere_is_not_made_twice(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        publisher = bot.deps.extras["writeup_publisher"]
        visit_id = confirmed_visit(bot, set_up_people(bot))
        w.sim.fail_next(status=500, path=f"/v3/conversations/{TEAMS_IDEAS}/activities")
        submit(bot, visit_id, form_values())
        settle(bot)
        saved = the_writeup(bot)
        # Another delivery of the row has begun the post and not been answered yet: this one waits.
        assert writeups.begin_teams_post(bot.session_factory, saved.id, now=bot.clock())
        with pytest.raises(Exception, match="teams_post_in_flight"):
            publisher.deliver_owed(due(outbox_row(bot)))
        assert channel_calls(w, "POST") == []
        # No answer ever came to it: after a while it is taken to be lost, and posted (once).
        bot.clock.advance(minutes=61)
        sweep(bot)
        sweep(bot)
        assert len(channel_calls(w, "POST")) == 1
        assert outbox_row(bot).status == ReminderStatus.SENT

    bank(test)


def test_a_connector_failure_leaves_the_post_owed_and_the_sweep_posts_it_once(bank: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        visit_id = confirmed_visit(bot, set_up_people(bot))
        w.sim.fail_next(status=500, path=f"/v3/conversations/{TEAMS_IDEAS}/activities")
        submit(bot, visit_id, form_values())
        settle(bot)
        assert [p for p in channel_posts(bot) if "Lukukoira kirjastossa" in text_of(p)]  # Slack's went
        refused = [c for c in w.sim.calls if TEAMS_IDEAS in c.path and c.status == 500]
        assert len(refused) == 1 and channel_calls(w, "POST") == []
        saved = the_writeup(bot)
        assert saved.teams_activity_id is None and saved.teams_post_begun_at is None
        row = outbox_row(bot)
        assert row.status == ReminderStatus.PENDING and "http_500" in (row.last_error or "")

        bot.clock.advance(minutes=61)
        sweep(bot)
        (post,) = channel_calls(w, "POST")
        assert "Lukukoira kirjastossa" in shown(card_of(post))
        assert outbox_row(bot).status == ReminderStatus.SENT and the_writeup(bot).teams_activity_id
        bot.clock.advance(minutes=61)
        sweep(bot)
        assert len(channel_calls(w, "POST")) == 1
        slack_posts = [p for p in channel_posts(bot) if "Lukukoira kirjastossa" in text_of(p)]
        assert len(slack_posts) == 1  # the Slack post was not made again either

    bank(test)

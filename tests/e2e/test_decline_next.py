"""After a decline the visitor is offered only libraries that offer the topic, ranked as `etsi`
ranks them; when none does, the visitor can ask the region's coordinators (informaatikot) for a
tip, as the programme's page advises ("kysymällä vinkkiä ... informaatikoilta")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.views.limits import check_message
from models import Library, Reminder, ReminderStatus, Topic, Visit, VisitStatus
from tests.conftest import COORDINATOR, Bot, make_settings
from tests.e2e.test_decide import press, value, wait_until
from tests.e2e.visit_helpers import (
    SUPERVISOR,
    VISITOR,
    buttons,
    jsonish,
    last_update_for,
    only_visit,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import text_value
from tests.find_support import add_offer


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def decline(bot: Bot, visit: Visit) -> dict:
    press(bot, ids.SUPERVISOR_DECLINE, value(visit), SUPERVISOR)
    view = bot.api.wait_for("views.open")[0].body["view"]
    metadata = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
    reply = bot.slack.submit(
        ids.DECLINE_VIEW,
        {ids.DECLINE_REASON: {ids.DECLINE_REASON: text_value("Ei tänä keväänä.")}},
        user=SUPERVISOR,
        private_metadata=metadata,
    )
    assert reply.json() == {"response_action": "clear"}
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.DECLINED)
    wait_until(bot, lambda: {ids.PROPOSE_HOST, ids.ASK_TIP} & set(buttons(last_update_for(bot, VISITOR))))
    card = last_update_for(bot, VISITOR)
    check_message({"text": card["text"], "blocks": jsonish(card["blocks"])})
    return card


def every_button(message: dict) -> list[tuple[str, dict]]:
    """(action_id, button) of every button of a message, in order (several may share an id)."""
    found = []
    for block in jsonish(message.get("blocks")) or []:
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if element.get("type") == "button":
                found.append((element["action_id"], element))
    return found


def names_of(bot: Bot, library_ids: list[int]) -> set[str]:
    with bot.session_factory() as session:
        return set(session.scalars(select(Library.key).where(Library.id.in_(library_ids))))


def test_after_a_decline_only_libraries_that_offer_the_topic_are_offered(bot: Bot) -> None:
    setup = set_up_people(bot)
    topic = setup["topic"]
    # Tervo and Rantasalmi offer the topic; Siilinjärvi, nearer to Kuopio, offers something else.
    add_offer(bot.session_factory, "tervo", [topic.key], bot.clock(), contacts=("U0TERVO",))
    add_offer(bot.session_factory, "rantasalmi", [topic.key], bot.clock(), contacts=("U0RANTA",))
    with bot.session_factory() as session:
        other = session.scalars(select(Topic.key).where(Topic.id != topic.id)).first()
    add_offer(bot.session_factory, "siilinjarvi", [other], bot.clock(), contacts=("U0SIILI",))
    visit = propose(bot, setup)
    card = decline(bot, visit)
    offered = [json.loads(v["value"]) for a, v in every_button(card) if a == ids.PROPOSE_HOST]
    assert {o["topic"] for o in offered} == {topic.id}
    assert names_of(bot, [o["library"] for o in offered]) == {"tervo", "rantasalmi"}
    assert ids.ASK_TIP not in buttons(card)


def test_with_no_other_library_offering_the_topic_the_visitor_asks_the_coordinators(
    bot: Bot, db_url: str
) -> None:
    from bot.startup import reminder_sweeper

    setup = set_up_people(bot)
    visit = propose(bot, setup)
    card = decline(bot, visit)
    assert ids.PROPOSE_HOST not in buttons(card)  # the nearest libraries offer nothing of it
    assert "Muut alueen kirjastot eivät vielä tarjoa vierailuja" in text_of(card)
    tip = buttons(card)[ids.ASK_TIP]

    press(bot, ids.ASK_TIP, tip["value"], SUPERVISOR)  # somebody else's visit: refused
    bot.api.wait_for("response_url")
    assert "Vain vierailun ehdottaja voi kysyä vinkkiä." in bot.api.of("response_url")[-1].body["text"]
    with bot.session_factory() as session:
        assert not session.scalars(select(Reminder).where(Reminder.kind == "tip_request")).all()

    press(bot, ids.ASK_TIP, tip["value"], VISITOR)
    press(bot, ids.ASK_TIP, tip["value"], VISITOR)  # a second press asks nobody twice
    bot.api.wait_for("response_url", count=3)
    assert "Kysyin vinkkiä alueen informaatikoilta." in bot.api.of("response_url")[-1].body["text"]
    with bot.session_factory() as session:
        asked = session.scalars(select(Reminder).where(Reminder.kind == "tip_request")).all()
    assert [(r.recipient, r.status) for r in asked] == [(COORDINATOR, ReminderStatus.PENDING)]

    settings = make_settings(db_url, bot.api.url)
    run = reminder_sweeper(settings, bot.session_factory, WebClient(token="xoxb-test", base_url=bot.api.url))
    before = len(bot.api.of("chat.postMessage"))
    result = run(asked[0].due_at)  # the sweep at the reminder's time (office hours)
    assert [r.recipient for r in result.sent] == [COORDINATOR]
    posts = bot.api.of("chat.postMessage")[before:]
    assert len(posts) == 1
    dm = posts[0].body
    check_message(dm)
    said = text_of(dm)  # the coordinator's language: English
    assert f"<@{VISITOR}> is looking for a library to learn about" in said
    assert setup["topic"].name_en in said
    assert "Miten omatoimiaikaa valvotaan" in said  # what the visitor wants to learn

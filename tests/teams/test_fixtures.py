"""Activities as Teams sends them (tests/fixtures/teams/, written from Microsoft's documented
examples: TEAMS.md §2.5), signed by the `teamssim` key and driven through the real Teams app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.i18n import translator
from models import ChatAccount, VisitDecision
from tests.teams.support import build, client, run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "teams"


def fixture(name: str, sim: Any) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    text = text.replace("https://smba.trafficmanager.net/emea/", sim.service_url)
    text = text.replace("TENANT", sim.tenant_id).replace("28:APP", f"28:{sim.client_id}")
    return json.loads(text)


async def post(sim: Any, session_factory: Any, clock: Any, *bodies: dict[str, Any]) -> list[Any]:
    bot = await build(sim, session_factory, clock)
    answers = []
    async with client(bot) as http:
        for body in bodies:
            response = await http.post("/api/messages", json=body, headers=sim.headers(body))
            assert response.status_code == 200, response.text
            answers.append(response)
    return answers


def card_text(call: Any) -> str:
    return json.dumps(call.body.get("attachments") or [], ensure_ascii=False)


def test_a_message_and_an_installation_store_the_reference_and_answer(teamssim, session_factory, clock):
    run(
        post,
        teamssim,
        session_factory,
        clock,
        fixture("installation_update", teamssim),
        fixture("message", teamssim),
    )
    welcome, help_card = teamssim.wait_sent(2)
    assert translator("en")("home.title") in card_text(welcome)  # installationUpdate: en-US
    assert translator("fi")("help.title") in card_text(help_card)
    with session_factory() as session:
        (account,) = session.scalars(select(ChatAccount)).all()
    assert (
        account.user_id,
        account.conversation_id,
        account.service_url,
        account.tenant_id,
        account.directory_id,
    ) == (
        "29:1AbCdEfGhIjKlMnOpQrStUvWxYz",
        "a:1XyZconversation",
        teamssim.service_url,
        teamssim.tenant_id,
        "6b1c2d3e-0000-4000-8000-000000000001",
    )


def test_a_channel_mention_is_answered_in_swedish_and_stores_no_reference(teamssim, session_factory, clock):
    run(post, teamssim, session_factory, clock, fixture("channel_mention", teamssim))
    (answer,) = teamssim.wait_sent(1)
    assert translator("sv")("help.title") in card_text(answer)
    with session_factory() as session:
        assert session.scalars(select(ChatAccount)).all() == []


def test_a_dialog_opens_and_a_bad_submission_comes_back_with_its_error(teamssim, session_factory, clock):
    opened, submitted = run(
        post,
        teamssim,
        session_factory,
        clock,
        fixture("task_fetch", teamssim),
        fixture("task_submit", teamssim),
    )
    task = opened.json()["task"]
    assert (
        task["type"] == "continue"
        and task["value"]["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    again = submitted.json()["task"]
    assert again["type"] == "continue"  # no home library chosen: the same dialog, the error in it
    assert translator("fi")("settings.error.library_required") in json.dumps(again, ensure_ascii=False)


def test_a_press_on_a_visit_that_does_not_exist_changes_nothing(teamssim, session_factory, clock):
    (answer,) = run(post, teamssim, session_factory, clock, fixture("adaptive_card_action", teamssim))
    body = answer.json()
    assert body["type"] == "application/vnd.microsoft.activity.message" and body["value"]
    with session_factory() as session:
        assert session.scalars(select(VisitDecision)).all() == []

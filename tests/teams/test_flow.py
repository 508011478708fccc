"""The whole visit flow with Teams people, end to end and offline: the real Slack app (signed
requests, the fake Web API) and the real Teams app (signed activities, the fake Bot Connector)
over one database, as one deployment serves a region's Slack and Teams people side by side.

Propose (a Teams dialog) -> the supervisor's, the host's and funding's decisions -> the
confirmation with its invite (an Action.OpenUrl to the signed .ics link) -> the day-before
reminder (a proactive Teams message, once over two sweeps) -> "did it happen?" -> the write-up
(a Teams dialog) published to the idea bank. Once with a Teams visitor and Slack deciders, once
with everyone in Teams."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select

from bot import ids
from bot.startup import reminder_sweeper
from models import ChatAccount, LibraryContact, StaffProfile, Visit, VisitDate, VisitStatus, WriteUp
from services.people import identity
from teams.app import TeamsBot, build_teams_app
from teams.cards.limits import check_card
from teams.deps import TeamsDeps
from teams.outbound import TeamsOutbound
from tests.conftest import COORDINATOR, Bot
from tests.e2e.visit_helpers import HOST1, SUPERVISOR, set_up_people, settle, text_of

TEAMS_VISITOR = "29:visitor"


@dataclass
class World:
    bot: Bot
    sim: Any
    teams: TeamsBot
    http: httpx.AsyncClient
    outbound: TeamsOutbound

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        response = await self.http.post("/api/messages", json=body, headers=self.sim.headers(body))
        assert response.status_code == 200, response.text
        return response

    def activity(self, user: str, aad: str, **fields: Any) -> dict[str, Any]:
        body = self.sim.message("", user=user, aad=aad)
        body.pop("text")
        body.update(fields)
        body["id"] = f"act-{uuid.uuid4().hex[:8]}"
        return body

    async def say(self, user: str, aad: str, text: str, name: str = "Testi Käyttäjä") -> None:
        body = self.sim.message(text, user=user, aad=aad)
        body["from"]["name"] = name
        await self.post(body)

    async def dialog_open(self, user: str, aad: str, action_id: str, value: str = "") -> dict[str, Any]:
        data = {"msteams": {"type": "task/fetch"}, "action_id": action_id, "value": value}
        body = self.activity(user, aad, type="invoke", name="task/fetch", value={"data": data})
        return (await self.post(body)).json()

    async def dialog_submit(self, user: str, aad: str, data: dict[str, Any]) -> dict[str, Any]:
        body = self.activity(user, aad, type="invoke", name="task/submit", value={"data": data})
        return (await self.post(body)).json()

    async def execute(self, user: str, aad: str, verb: str, value: str) -> str:
        action = {"type": "Action.Execute", "verb": verb, "data": {"action_id": verb, "value": value}}
        body = self.activity(
            user,
            aad,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": action, "trigger": "manual"},
        )
        answer = (await self.post(body)).json()
        return str(answer.get("value"))

    def cards_to(self, conversation: str) -> list[dict[str, Any]]:
        """The cards the connector got for a conversation (posts and updates), oldest first."""
        found = []
        for call in list(self.sim.calls):
            if f"/v3/conversations/{conversation}/activities" in call.path:
                for attachment in call.body.get("attachments") or []:
                    found.append(attachment["content"])
        return found


@pytest.fixture
def world(bot: Bot, teamssim: Any) -> Iterator[Any]:
    settings = bot.deps.settings.model_copy(
        update={
            "teams_client_id": teamssim.client_id,
            "teams_tenant_id": teamssim.tenant_id,
            "teams_service_url": teamssim.service_url,
            "teams_public_url": "https://vertaisbot.example",
            "teams_link_secret": SecretStr("k" * 40),
        }
    )
    outbound = TeamsOutbound(
        settings, bot.session_factory, cloud=teamssim.cloud, token=teamssim.app_token, clock=bot.clock
    )
    notifier = bot.deps.extras["visit_notifier"]
    publisher = bot.deps.extras["writeup_publisher"]
    notifier.elsewhere = outbound  # type: ignore[attr-defined]  # what the composition root gives
    publisher.elsewhere = outbound  # type: ignore[attr-defined]
    deps = TeamsDeps(
        session_factory=bot.session_factory,
        clock=bot.clock,
        settings=settings,
        visit_notifier=notifier,  # type: ignore[arg-type]
        writeup_publisher=publisher,  # type: ignore[arg-type]
    )

    def scenario(test: Any) -> None:
        async def body() -> None:
            teams = await build_teams_app(settings, deps, cloud=teamssim.cloud, token=teamssim.app_token)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=teams.asgi), base_url="http://teams.test"
            ) as http:
                await test(World(bot, teamssim, teams, http, outbound))

        asyncio.run(body())

    yield scenario
    settle(bot)
    outbound.close()


def proposal(setup: dict[str, Any], supervisor: str, **changes: str) -> dict[str, Any]:
    data = {
        "callback_id": ids.PROPOSE_VIEW,
        "private_metadata": "",
        ids.PROPOSE_TOPIC: str(setup["topic"].id),
        ids.PROPOSE_HOST_SELECT: str(setup["host"].id),
        ids.PROPOSE_LEARN: "Miten omatoimiaikaa valvotaan.",
        f"{ids.PROPOSE_DATE}_1": "2026-12-02",
        f"{ids.PROPOSE_DATE}_2": "2026-12-03",
        ids.PROPOSE_LENGTH: "day",
        ids.PROPOSE_TRAVEL: "car",
        ids.PROPOSE_KM: "120",
        ids.PROPOSE_TICKETS: "0",
        ids.PROPOSE_SUPERVISOR: supervisor,
    }
    data.update(changes)
    return data


def named(bot: Bot, person: str, name: str) -> None:
    with bot.session_factory.begin() as session:
        profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == person))
        if profile is None:
            now = bot.clock()
            session.add(StaffProfile(slack_user_id=person, display_name=name, created_at=now, updated_at=now))
        else:
            profile.display_name = name


def the_visit(bot: Bot) -> Visit:
    with bot.session_factory() as session:
        (visit,) = session.scalars(select(Visit)).all()
        return visit


def first_date(bot: Bot, visit: Visit) -> int:
    with bot.session_factory() as session:
        return session.scalars(
            select(VisitDate.id).where(VisitDate.visit_id == visit.id).order_by(VisitDate.id)
        ).first()


def person_of(bot: Bot, user: str) -> str:
    with bot.session_factory() as session:
        account = session.scalar(select(ChatAccount).where(ChatAccount.user_id == user))
        assert account is not None and account.staff_profile_id is not None
        profile = session.get(StaffProfile, account.staff_profile_id)
        assert profile is not None
        return profile.slack_user_id


def conversation(user: str) -> str:
    return f"a:{user}-chat"  # as tests/fakes/teams_sim.py names a 1:1 chat


async def propose_in_teams(w: World, setup: dict[str, Any], supervisor: str) -> str:
    """A Teams visitor sets a home library and proposes a visit; their person id."""
    await w.say(TEAMS_VISITOR, "aad-visitor", "apua", name="Tiina Teams-Vierailija")
    visitor = person_of(w.bot, TEAMS_VISITOR)
    assert identity.is_own_id(visitor)  # nobody in Slack with that Entra id: a person of their own

    opened = await w.dialog_open(TEAMS_VISITOR, "aad-visitor", ids.OPEN_PROPOSE)
    settings_card = opened["task"]["value"]["card"]["content"]  # no home library yet: asked first
    assert ids.HOME_LIBRARY in json.dumps(settings_card)
    done = await w.dialog_submit(
        TEAMS_VISITOR,
        "aad-visitor",
        {"callback_id": ids.SETTINGS_VIEW, ids.HOME_LIBRARY: str(setup["home"].id), ids.LANGUAGE: "auto"},
    )
    assert done["task"]["type"] == "message"

    opened = await w.dialog_open(TEAMS_VISITOR, "aad-visitor", ids.OPEN_PROPOSE)
    form = opened["task"]["value"]["card"]["content"]
    assert check_card(form) == []
    assert supervisor in json.dumps(form)  # the supervisor is offered by name

    # An error: the dialog again with what was typed and the error under its field; nothing saved.
    again = await w.dialog_submit(
        TEAMS_VISITOR,
        "aad-visitor",
        proposal(setup, supervisor, **{f"{ids.PROPOSE_DATE}_1": "", f"{ids.PROPOSE_DATE}_2": ""}),
    )
    assert again["task"]["type"] == "continue"
    shown = json.dumps(again["task"]["value"]["card"]["content"], ensure_ascii=False)
    assert "Miten omatoimiaikaa valvotaan." in shown  # kept
    assert '"color": "Attention"' in shown or '"color":"Attention"' in shown
    with w.bot.session_factory() as session:
        assert session.scalars(select(Visit)).all() == []

    done = await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", proposal(setup, supervisor))
    assert done["task"]["type"] == "message", done
    return visitor


def test_a_teams_visitor_and_slack_deciders(world: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        named(bot, SUPERVISOR, "Pekka Esihenkilö")
        visitor = await propose_in_teams(w, setup, SUPERVISOR)
        visit = the_visit(bot)
        assert visit.visitor_id == visitor and visit.supervisor_id == SUPERVISOR

        # The Slack deciders got their messages, with the Teams visitor named (no broken mention).
        bot.api.wait_for("chat.postMessage", count=3)
        to_boss = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == SUPERVISOR]
        assert to_boss and "Tiina Teams-Vierailija" in text_of(to_boss[-1])
        assert f"<@{visitor}>" not in json.dumps([c.body for c in bot.api.of("chat.postMessage")])
        # The visitor's own message is a card in their Teams chat.
        mine = w.cards_to(conversation(TEAMS_VISITOR))
        assert mine and all(check_card(card) == [] for card in mine)

        value = f"{visit.id}:{visit.round}"
        assert bot.slack.action(ids.SUPERVISOR_APPROVE, value, user=SUPERVISOR).status == 200
        assert (
            bot.slack.action(f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}", user=HOST1).status
            == 200
        )
        assert bot.slack.action(ids.FUNDING_APPROVE, value, user=COORDINATOR).status == 200
        settle(bot)
        assert the_visit(bot).status == VisitStatus.CONFIRMED

        # Every decision updated the visitor's card (PUT); the confirmation brought the invite.
        updates = [c for c in w.sim.calls if c.method == "PUT" and conversation(TEAMS_VISITOR) in c.path]
        assert len(updates) >= 3
        invite = w.cards_to(conversation(TEAMS_VISITOR))[-1]
        (link,) = [a["url"] for a in invite.get("actions", []) if a["type"] == "Action.OpenUrl"]
        assert link.startswith("https://vertaisbot.example/ics/")
        ics = await w.http.get(link.removeprefix("https://vertaisbot.example"))
        assert (
            ics.status_code == 200
            and "BEGIN:VEVENT" in ics.text
            and any(line.startswith("DTSTART") and "20261202" in line for line in ics.text.splitlines())
        )

        await remind_once_and_write_up(w, visitor, TEAMS_VISITOR, "aad-visitor")

    world(test)


async def remind_once_and_write_up(w: World, visitor: str, user: str, aad: str) -> None:
    bot = w.bot
    settings = bot.deps.settings
    client = WebClient(token="xoxb-test", base_url=bot.api.url)
    notifier = bot.deps.extras["visit_notifier"]
    sweep = reminder_sweeper(
        settings,
        bot.session_factory,
        client,
        notifier=notifier,
        publisher=bot.deps.extras["writeup_publisher"],
        suggestions=bot.deps.extras["suggestion_notifier"],
        clock=bot.clock,
    )
    # The day before (1.12. at 12:00 in Helsinki): the reminder reaches Teams once, not twice.
    before = len(w.cards_to(conversation(user)))
    day_before = bot.clock() + timedelta(days=7)
    sweep(day_before)
    sweep(day_before + timedelta(minutes=1))
    reminders = w.cards_to(conversation(user))[before:]
    visit = the_visit(bot)
    sent_now = [c for c in reminders if "Hyvää matkaa" in json.dumps(c, ensure_ascii=False)]
    assert len(sent_now) == 1, reminders

    # After the day: "did it happen?" pressed in Teams, then the write-up in a Teams dialog.
    bot.clock.advance(days=9)
    answer = await w.execute(user, aad, ids.HAPPENED_YES, f"{visit.id}:{visit.round}")
    assert answer
    opened = await w.dialog_open(user, aad, ids.WRITEUP_OPEN, str(visit.id))
    form = opened["task"]["value"]["card"]["content"]
    assert check_card(form) == []
    data = {
        "callback_id": ids.WRITEUP_VIEW,
        "private_metadata": json.dumps({"visit": visit.id}),
        ids.WRITEUP_TITLE: "Omatoimikirjasto toimii",
        ids.WRITEUP_LEARNED: "Opimme, miten omatoimiaikaa valvotaan kameroilla ja miten asiakkaat opastetaan.",
        ids.WRITEUP_TRY: "Kokeilemme opastusta.",
        ids.WRITEUP_TIPS: "",
        ids.WRITEUP_RECOMMEND: "yes",
        ids.WRITEUP_LINK: "",
        ids.WRITEUP_PUBLISH: "yes",
    }
    done = await w.dialog_submit(user, aad, data)
    assert done["task"]["type"] == "message", done
    with bot.session_factory() as session:
        (writeup,) = session.scalars(select(WriteUp)).all()
        assert writeup.title == "Omatoimikirjasto toimii"
    bot.api.wait_for("chat.postMessage", count=1)
    posts = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == "C0IDEAS"]
    assert posts and "Omatoimikirjasto toimii" in text_of(posts[-1])  # in the Slack idea bank
    assert f"<@{visitor}>" not in json.dumps(posts)


def test_everyone_in_teams(world: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        # The supervisor and the coordinator are known in the bot (Slack profiles with their Entra
        # ids): their Teams accounts link to them and act as them. The host's contact is Teams-only.
        for person, aad, name in (
            (SUPERVISOR, "aad-boss", "Pekka Esihenkilö"),
            (COORDINATOR, "aad-coord", "Kaisa Informaatikko"),
        ):
            named(bot, person, name)
            with bot.session_factory.begin() as session:
                profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == person))
                profile.directory_id = aad
        await w.say("29:boss", "aad-boss", "apua")
        await w.say("29:coord", "aad-coord", "apua")
        await w.say("29:host", "aad-host", "apua", name="Hanna Kohde")
        assert person_of(bot, "29:boss") == SUPERVISOR and person_of(bot, "29:coord") == COORDINATOR
        host = person_of(bot, "29:host")
        with bot.session_factory.begin() as session:  # the Teams host becomes the library's only contact
            for contact in session.scalars(
                select(LibraryContact).where(LibraryContact.library_id == setup["host"].id)
            ):
                session.delete(contact)
            session.add(LibraryContact(library_id=setup["host"].id, slack_user_id=host, added_at=bot.clock()))
        slack_posts = len(bot.api.of("chat.postMessage"))

        visitor = await propose_in_teams(w, setup, SUPERVISOR)
        visit = the_visit(bot)
        value = f"{visit.id}:{visit.round}"
        for user in ("29:boss", "29:host", "29:coord"):
            assert w.cards_to(conversation(user)), user  # each decider's card is in Teams

        # A stranger's press changes nothing; the right people decide in Teams.
        refused = await w.execute("29:host", "aad-host", ids.SUPERVISOR_APPROVE, value)
        assert refused and the_visit(bot).supervisor_state.value == "pending"
        await w.execute("29:boss", "aad-boss", ids.SUPERVISOR_APPROVE, value)
        await w.execute("29:host", "aad-host", f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}")
        await w.execute("29:coord", "aad-coord", ids.FUNDING_APPROVE, value)
        assert the_visit(bot).status == VisitStatus.CONFIRMED
        # A second press on the stale card: told it is decided, no second decision.
        again = await w.execute("29:coord", "aad-coord", ids.FUNDING_APPROVE, value)
        assert again and the_visit(bot).status == VisitStatus.CONFIRMED
        dm_posts = [
            c for c in bot.api.of("chat.postMessage")[slack_posts:] if c.body.get("channel") != "C0IDEAS"
        ]
        assert dm_posts == []  # nobody was messaged in Slack
        for user in ("29:visitor", "29:boss", "29:host", "29:coord"):
            assert all(check_card(card) == [] for card in w.cards_to(conversation(user)))

        await remind_once_and_write_up(w, visitor, TEAMS_VISITOR, "aad-visitor")

    world(test)

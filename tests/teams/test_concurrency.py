"""Two presses of the same decision at once from Teams make one decision; the other presser is
told it is decided; a stale card's press changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot import ids
from bot.i18n import translator
from models import StaffProfile, Visit, VisitDecision, VisitStatus
from tests.conftest import COORDINATOR
from tests.e2e.visit_helpers import HOST1, SUPERVISOR, set_up_people, settle
from tests.teams.test_flow import World, first_date, named, propose_in_teams, the_visit, world  # noqa: F401


def test_two_funding_presses_at_once_make_one_decision(world: Any) -> None:  # noqa: F811
    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        named(bot, SUPERVISOR, "Pekka Esihenkilö")
        named(bot, COORDINATOR, "Kaisa Informaatikko")
        with bot.session_factory.begin() as session:
            profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == COORDINATOR))
            profile.directory_id = "aad-coord"
        await w.say("29:coord", "aad-coord", "apua")
        await propose_in_teams(w, setup, SUPERVISOR)
        visit = the_visit(bot)
        value = f"{visit.id}:{visit.round}"
        assert bot.slack.action(ids.SUPERVISOR_APPROVE, value, user=SUPERVISOR).status == 200
        assert (
            bot.slack.action(f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}", user=HOST1).status
            == 200
        )
        settle(bot)

        answers = await asyncio.gather(
            *(w.execute("29:coord", "aad-coord", ids.FUNDING_APPROVE, value) for _ in range(2))
        )
        assert the_visit(bot).status == VisitStatus.CONFIRMED
        with bot.session_factory() as session:
            funding = session.scalars(select(VisitDecision).where(VisitDecision.party == "funding")).all()
        assert len(funding) == 1
        saved = translator("fi")("teams.decision.saved")
        assert sorted(answers, key=lambda a: a != saved)[0] == saved  # one saved,
        assert answers.count(saved) == 1  # the other told it was decided already

        # A press on an old round's card (the visit was not moved: round + 1 never existed).
        stale = await w.execute("29:coord", "aad-coord", ids.FUNDING_APPROVE, f"{visit.id}:{visit.round + 1}")
        assert stale and stale != saved
        with bot.session_factory() as session:
            assert (
                len(session.scalars(select(VisitDecision).where(VisitDecision.party == "funding")).all()) == 1
            )

    world(test)


def test_the_same_proposal_dialog_submitted_twice_proposes_once(world: Any) -> None:  # noqa: F811
    from tests.teams.test_flow import TEAMS_VISITOR, proposal

    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        named(bot, SUPERVISOR, "Pekka Esihenkilö")
        await w.say(TEAMS_VISITOR, "aad-visitor", "apua", name="Tiina Teams-Vierailija")
        await w.dialog_submit(
            TEAMS_VISITOR,
            "aad-visitor",
            {"callback_id": ids.SETTINGS_VIEW, ids.HOME_LIBRARY: str(setup["home"].id), ids.LANGUAGE: "auto"},
        )
        opened = await w.dialog_open(TEAMS_VISITOR, "aad-visitor", ids.OPEN_PROPOSE)
        card = opened["task"]["value"]["card"]["content"]
        (submit,) = [a for a in card["actions"] if a["type"] == "Action.Submit"]
        data = {**proposal(setup, SUPERVISOR), "private_metadata": submit["data"]["private_metadata"]}
        first = await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", data)
        again = await w.dialog_submit(TEAMS_VISITOR, "aad-visitor", data)  # a double click, a retry
        assert first["task"]["type"] == again["task"]["type"] == "message"
        with bot.session_factory() as session:
            assert len(session.scalars(select(Visit)).all()) == 1

    world(test)

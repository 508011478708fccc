"""`tarjoa` and `raportti` in Teams, end to end and offline over the `world` of
tests/teams/test_flow.py: a Teams contact of a library adds an offer through the dialog (an
error first: shown again, nothing saved), a stranger's forged submit for another library changes
nothing; a Teams coordinator gets the report as a card, and someone else is refused."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot import ids
from bot.i18n import translator
from models import HostOffer, LibraryContact, StaffProfile
from services.money import reports
from teams.cards.limits import check_card
from tests.conftest import COORDINATOR
from tests.e2e.visit_helpers import HOST1, SUPERVISOR, set_up_people
from tests.teams import test_flow
from tests.teams.test_flow import World, conversation, named, person_of, propose_in_teams

world = test_flow.world  # the fixture: the real Slack and Teams apps over one database

HOST = ("29:host", "aad-host")
STRANGER = ("29:stranger", "aad-stranger")
COORD = ("29:coord", "aad-coord")
FI = translator("fi")


def last_card(w: World, user: str) -> dict[str, Any]:
    card = w.cards_to(conversation(user))[-1]
    assert check_card(card) == [], card
    return card


def dialog(opened: dict[str, Any]) -> dict[str, Any]:
    assert opened["task"]["type"] == "continue", opened
    card: dict[str, Any] = opened["task"]["value"]["card"]["content"]
    assert check_card(card) == []
    return card


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    (action,) = card["actions"]
    return dict(action["data"])


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("Action.Submit", "Action.Execute"):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def offers_of(w: World) -> list[tuple[int, list[int], str]]:
    with w.bot.session_factory() as session:
        return [
            (o.library_id, sorted(t.id for t in o.topics), o.description)
            for o in session.scalars(select(HostOffer))
        ]


def at_home(w: World, person: str, library_id: int) -> None:
    with w.bot.session_factory.begin() as session:
        profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == person))
        assert profile is not None
        profile.home_library_id = library_id


async def a_teams_contact(w: World) -> tuple[dict[str, Any], str]:
    """A Teams-only person, at home in the host library and its only contact; the setup."""
    setup = set_up_people(w.bot)
    await w.say(*HOST, "apua", name="Hanna Kohde")
    host = person_of(w.bot, HOST[0])
    at_home(w, host, setup["host"].id)
    with w.bot.session_factory.begin() as session:
        for contact in session.scalars(
            select(LibraryContact).where(LibraryContact.library_id == setup["host"].id)
        ):
            session.delete(contact)
        session.add(LibraryContact(library_id=setup["host"].id, slack_user_id=host, added_at=w.bot.clock()))
    return setup, host


def test_a_teams_contact_adds_an_offer(world: Any) -> None:
    async def test(w: World) -> None:
        setup, host = await a_teams_contact(w)
        await w.say(*HOST, "tarjoa")
        listing = last_card(w, HOST[0])
        (new,) = [b for b in buttons(listing) if (b.get("data") or {}).get("action_id") == ids.NEW_OFFER]
        assert new["type"] == "Action.Submit" and new["data"]["msteams"] == {"type": "task/fetch"}

        form = dialog(await w.dialog_open(*HOST, ids.NEW_OFFER))
        shown = json.dumps(form, ensure_ascii=False)
        assert str(setup["topic"].id) in shown and "Hanna Kohde" in shown  # topics and contacts offered
        data = submit_data(form)
        assert data["callback_id"] == ids.OFFER_VIEW
        filled = {
            **data,
            ids.OFFER_LIBRARY: str(setup["host"].id),
            ids.OFFER_DESCRIPTION: "Omatoimikirjasto ja sen valvonta.",
            ids.OFFER_CONTACTS: host,
            ids.OFFER_CAPACITY: 2,
            ids.OFFER_WEEKDAYS: "0,1,2",
        }

        # No topic and no suggestion: the form again, with what was typed; nothing saved.
        again = dialog(await w.dialog_submit(*HOST, filled))
        again_text = json.dumps(again, ensure_ascii=False)
        assert "Attention" in again_text and "Omatoimikirjasto ja sen valvonta." in again_text
        assert offers_of(w) == []

        done = await w.dialog_submit(*HOST, {**filled, ids.OFFER_TOPICS: str(setup["topic"].id)})
        saved = dialog(done)  # the same "saved" view as Slack's, without a submit button
        assert not saved.get("actions")
        assert offers_of(w) == [(setup["host"].id, [setup["topic"].id], "Omatoimikirjasto ja sen valvonta.")]
        # The same dialog posted again saves no second offer.
        await w.dialog_submit(*HOST, {**filled, ids.OFFER_TOPICS: str(setup["topic"].id)})
        assert len(offers_of(w)) == 1

        # Now `tarjoa` lists it with its edit button, which opens the form with its values.
        await w.say(*HOST, "tarjoa")
        (edit,) = [
            b
            for b in buttons(last_card(w, HOST[0]))
            if (b.get("data") or {}).get("action_id") == ids.EDIT_OFFER
        ]
        edited = dialog(await w.dialog_open(*HOST, ids.EDIT_OFFER, edit["data"]["value"]))
        assert "Omatoimikirjasto ja sen valvonta." in json.dumps(edited, ensure_ascii=False)

    world(test)


def test_a_stranger_cannot_offer_for_another_library(world: Any) -> None:
    async def test(w: World) -> None:
        setup, host = await a_teams_contact(w)
        await w.say(*STRANGER, "apua", name="Sanna Sivullinen")
        stranger = person_of(w.bot, STRANGER[0])
        at_home(w, stranger, setup["home"].id)
        await w.dialog_open(*HOST, ids.NEW_OFFER)
        saved = await w.dialog_submit(
            *HOST,
            {
                "callback_id": ids.OFFER_VIEW,
                "private_metadata": "",
                ids.OFFER_LIBRARY: str(setup["host"].id),
                ids.OFFER_TOPICS: str(setup["topic"].id),
                ids.OFFER_CONTACTS: host,
                ids.OFFER_CAPACITY: "2",
                ids.OFFER_WEEKDAYS: "0",
            },
        )
        assert saved["task"]["type"] == "continue"
        before = offers_of(w)
        (offer_id,) = [o.id for o in _offers(w)]

        forged = {
            "callback_id": ids.OFFER_VIEW,
            ids.OFFER_LIBRARY: str(setup["host"].id),
            ids.OFFER_TOPICS: str(setup["topic"].id),
            ids.OFFER_DESCRIPTION: "Väärennetty.",
            ids.OFFER_CONTACTS: stranger,
            ids.OFFER_CAPACITY: "9",
            ids.OFFER_WEEKDAYS: "0,1,2,3,4,5,6",
        }
        # A new offer for a library that has a contact: the form again with why; nothing written.
        answer = dialog(await w.dialog_submit(*STRANGER, {**forged, "private_metadata": ""}))
        assert "Attention" in json.dumps(answer)
        # Someone else's offer named in the metadata: refused before anything is read.
        for metadata in (json.dumps({"offer": offer_id}), json.dumps({"offer": 10**6})):
            answer = await w.dialog_submit(*STRANGER, {**forged, "private_metadata": metadata})
            assert answer["task"]["type"] == "message" and answer["task"]["value"], answer
        for metadata in ("{", "[1]", json.dumps({"offer": "x"})):  # read as a new offer: refused
            answer = await w.dialog_submit(*STRANGER, {**forged, "private_metadata": metadata})
            assert "Attention" in json.dumps(dialog(answer)), metadata
        refused = await w.dialog_open(*STRANGER, ids.EDIT_OFFER, str(offer_id))
        assert refused["task"]["type"] == "message" and refused["task"]["value"]
        assert offers_of(w) == before
        with w.bot.session_factory() as session:
            contacts = set(
                session.scalars(
                    select(LibraryContact.slack_user_id).where(LibraryContact.library_id == setup["host"].id)
                )
            )
        assert contacts == {host}

    world(test)


def _offers(w: World) -> list[HostOffer]:
    with w.bot.session_factory() as session:
        return list(session.scalars(select(HostOffer)))


def test_a_teams_coordinator_gets_the_report(world: Any) -> None:
    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        named(bot, SUPERVISOR, "Pekka Esihenkilö")
        await propose_in_teams(w, setup, SUPERVISOR)  # one visit this year
        named(bot, COORDINATOR, "Kaisa Informaatikko")
        with bot.session_factory.begin() as session:
            profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == COORDINATOR))
            profile.directory_id = COORD[1]
        await w.say(*COORD, "apua")
        assert person_of(bot, COORD[0]) == COORDINATOR

        year = bot.clock().year
        await w.say(*COORD, f"raportti {year}")
        card = last_card(w, COORD[0])
        text = json.dumps(card, ensure_ascii=False)
        t = translator(card["lang"])  # the language the coordinator's Teams gives
        region = bot.deps.coordinators.region_of(COORDINATOR)
        assert region is not None
        data = reports.report(
            bot.session_factory, region, year, today=bot.clock().date(), tz=bot.deps.settings.tz
        )
        assert data.total == 1
        assert str(year) in text and data.region_name in text
        assert t("desk.report.total", count=data.total).replace("*", "") in text.replace("*", "")
        assert "Slack" in text  # the files are in Slack's `raportti`
        assert not bot.api.of("files.upload") and not bot.api.of("files.getUploadURLExternal")

        await w.say(*COORD, "raportti vuosi")
        assert "vuosi" in json.dumps(last_card(w, COORD[0]), ensure_ascii=False)

    world(test)


def test_someone_else_is_refused_the_report(world: Any) -> None:
    async def test(w: World) -> None:
        set_up_people(w.bot)
        await w.say(*STRANGER, "raportti", name="Sanna Sivullinen")
        text = json.dumps(last_card(w, STRANGER[0]), ensure_ascii=False)
        assert FI("desk.only_coordinators") in text

    world(test)


def test_the_library_s_slack_contacts_are_kept(world: Any) -> None:
    async def test(w: World) -> None:
        setup, host = await a_teams_contact(w)
        with w.bot.session_factory.begin() as session:
            session.add(
                LibraryContact(library_id=setup["host"].id, slack_user_id=HOST1, added_at=w.bot.clock())
            )
        form = dialog(await w.dialog_open(*HOST, ids.NEW_OFFER))
        assert HOST1 in json.dumps(form)  # the contacts as they are, offered to keep
        done = await w.dialog_submit(
            *HOST,
            {
                **submit_data(form),
                ids.OFFER_LIBRARY: str(setup["host"].id),
                ids.OFFER_TOPICS: str(setup["topic"].id),
                ids.OFFER_CONTACTS: f"{host},{HOST1}",
                ids.OFFER_CAPACITY: "1",
                ids.OFFER_WEEKDAYS: "4",
            },
        )
        assert not dialog(done).get("actions"), done  # saved
        with w.bot.session_factory() as session:
            contacts = set(
                session.scalars(
                    select(LibraryContact.slack_user_id).where(LibraryContact.library_id == setup["host"].id)
                )
            )
        assert contacts == {host, HOST1}
        # Someone the bot does not know is not taken as a contact.
        again = await w.dialog_submit(
            *HOST,
            {
                **submit_data(form),
                "private_metadata": "",
                ids.OFFER_LIBRARY: str(setup["host"].id),
                ids.OFFER_TOPICS: str(setup["topic"].id),
                ids.OFFER_CONTACTS: f"{host},UNOBODY42",
                ids.OFFER_CAPACITY: "1",
                ids.OFFER_WEEKDAYS: "4",
            },
        )
        assert "Attention" in json.dumps(dialog(again))
        assert len(offers_of(w)) == 1

    world(test)

"""A visit's small forms as Teams dialogs (teams/visit_dialogs.py), end to end and offline over
the `world` of tests/teams/test_flow.py: a Teams host declines with a reason, a decline without
one is shown again and changes nothing, a Teams visitor moves a confirmed visit, and a stranger
(opening someone else's form, or posting forged private_metadata) changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot import ids
from models import Library, LibraryContact, PartyState, Reminder, StaffProfile, VisitDecision, VisitStatus
from services.common.office_hours import add_working_days, next_working_day
from services.visits import deadlines
from teams.cards.limits import check_card
from tests.conftest import COORDINATOR
from tests.e2e.visit_helpers import SUPERVISOR, set_up_people
from tests.teams import test_flow
from tests.teams.test_flow import (
    TEAMS_VISITOR,
    World,
    conversation,
    first_date,
    named,
    person_of,
    propose_in_teams,
    the_visit,
)

world = test_flow.world  # the fixture: the real Slack and Teams apps over one database

HOST = ("29:host", "aad-host")
BOSS = ("29:boss", "aad-boss")
COORD = ("29:coord", "aad-coord")
STRANGER = ("29:stranger", "aad-stranger")
VISITOR = (TEAMS_VISITOR, "aad-visitor")


async def everyone_in_teams(w: World) -> dict[str, Any]:
    """The supervisor and the coordinator linked to their Slack profiles, a Teams-only host
    contact, a Teams stranger; the Teams visitor has proposed. The setup, with the visit."""
    bot = w.bot
    setup = set_up_people(bot)
    for person, aad, name in (
        (SUPERVISOR, BOSS[1], "Pekka Esihenkilö"),
        (COORDINATOR, COORD[1], "Kaisa Informaatikko"),
    ):
        named(bot, person, name)
        with bot.session_factory.begin() as session:
            profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == person))
            profile.directory_id = aad
    for user, aad in (BOSS, COORD):
        await w.say(user, aad, "apua")
    await w.say(*HOST, "apua", name="Hanna Kohde")
    await w.say(*STRANGER, "apua", name="Sanna Sivullinen")
    host = person_of(bot, HOST[0])
    with bot.session_factory.begin() as session:
        for contact in session.scalars(
            select(LibraryContact).where(LibraryContact.library_id == setup["host"].id)
        ):
            session.delete(contact)
        session.add(LibraryContact(library_id=setup["host"].id, slack_user_id=host, added_at=bot.clock()))
    await propose_in_teams(w, setup, SUPERVISOR)
    setup["visit"] = the_visit(bot)
    return setup


def card_of(opened: dict[str, Any]) -> dict[str, Any]:
    assert opened["task"]["type"] == "continue", opened
    card: dict[str, Any] = opened["task"]["value"]["card"]["content"]
    assert check_card(card) == []
    return card


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    """What the dialog's submit button posts besides the inputs (its callback and metadata)."""
    (action,) = card["actions"]
    return dict(action["data"])


def declines(w: World) -> list[VisitDecision]:
    with w.bot.session_factory() as session:
        return list(session.scalars(select(VisitDecision).where(VisitDecision.outcome == "declined")))


def buttons_in(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
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

    walk(cards)
    return found


def test_a_teams_host_declines_with_a_reason(world: Any) -> None:
    async def test(w: World) -> None:
        setup = await everyone_in_teams(w)
        visit = setup["visit"]
        value = f"{visit.id}:{visit.round}"
        await w.execute(*BOSS, ids.SUPERVISOR_APPROVE, value)

        # The host's card offers "decline" as a dialog (task/fetch), not as an Action.Execute.
        pressed = [
            b
            for b in buttons_in(w.cards_to(conversation(HOST[0])))
            if (b.get("data") or {}).get("action_id") == ids.HOST_DECLINE
        ]
        assert pressed and all(
            b["type"] == "Action.Submit" and b["data"]["msteams"] == {"type": "task/fetch"} for b in pressed
        )

        card = card_of(await w.dialog_open(*HOST, ids.HOST_DECLINE, value))
        assert ids.DECLINE_REASON in json.dumps(card)
        data = submit_data(card)
        assert data["callback_id"] == ids.DECLINE_VIEW

        # No reason: the dialog again with the error under the field; nothing written.
        again = card_of(await w.dialog_submit(*HOST, {**data, ids.DECLINE_REASON: "   "}))
        assert "Attention" in json.dumps(again)
        assert declines(w) == [] and the_visit(w.bot).status == VisitStatus.PROPOSED

        before = len(w.cards_to(conversation(TEAMS_VISITOR)))
        reason = "Emme ehdi joulukuussa, tervetuloa keväällä."
        done = await w.dialog_submit(*HOST, {**data, ids.DECLINE_REASON: reason})
        assert done["task"]["type"] == "message", done
        assert done["task"]["value"] == "Vierailu on hylätty. Vierailija saa tiedon ja syyn."
        assert the_visit(w.bot).status == VisitStatus.DECLINED
        (decision,) = declines(w)
        assert (decision.party, decision.decided_by, decision.reason) == (
            "host",
            person_of(w.bot, HOST[0]),
            reason,
        )
        # The visitor hears, with the reason, in their Teams chat.
        told = w.cards_to(conversation(TEAMS_VISITOR))[before:]
        assert told and reason in json.dumps(told, ensure_ascii=False)

        # The stale button: the dialog does not open, the reason is told; a second post does nothing.
        stale = await w.dialog_open(*HOST, ids.HOST_DECLINE, value)
        assert stale["task"]["type"] == "message" and stale["task"]["value"]
        twice = await w.dialog_submit(*HOST, {**data, ids.DECLINE_REASON: "Toinen syy."})
        assert twice["task"]["type"] == "message"
        assert len(declines(w)) == 1

    world(test)


def test_a_stranger_cannot_decline_nor_forge_the_form(world: Any) -> None:
    async def test(w: World) -> None:
        setup = await everyone_in_teams(w)
        visit = setup["visit"]
        value = f"{visit.id}:{visit.round}"
        for button in (ids.HOST_DECLINE, ids.SUPERVISOR_DECLINE, ids.FUNDING_DECLINE, ids.HOST_COUNTER):
            refused = await w.dialog_open(*STRANGER, button, value)
            assert refused["task"]["type"] == "message" and refused["task"]["value"], (button, refused)
        # A visitor's form for someone else's visit is refused too.
        moved = await w.dialog_open(*STRANGER, ids.VISIT_MOVE, value)
        assert moved["task"]["type"] == "message"

        # Forged submissions: each party named in the metadata, a reason given; nothing changes.
        for party in ("host", "supervisor", "funding", "visitor", "nobody"):
            metadata = json.dumps({"visit": visit.id, "round": visit.round, "party": party})
            answer = await w.dialog_submit(
                *STRANGER,
                {"callback_id": ids.DECLINE_VIEW, "private_metadata": metadata, ids.DECLINE_REASON: "Ei."},
            )
            assert answer["task"]["type"] == "message", (party, answer)
        for forged in (
            "",
            "{",
            "[1]",
            json.dumps({"visit": "x"}),
            json.dumps({"visit": visit.id, "round": 99, "party": "host"}),
        ):
            answer = await w.dialog_submit(
                *STRANGER,
                {"callback_id": ids.DECLINE_VIEW, "private_metadata": forged, ids.DECLINE_REASON: "Ei."},
            )
            assert answer["task"]["type"] == "message", (forged, answer)
        metadata = json.dumps({"visit": visit.id, "round": visit.round, "party": "visitor"})
        answer = await w.dialog_submit(
            *STRANGER,
            {
                "callback_id": ids.MOVE_VIEW,
                "private_metadata": metadata,
                f"{ids.PROPOSE_DATE}_1": "2026-12-16",
            },
        )
        assert answer["task"]["type"] == "message"

        now = the_visit(w.bot)
        assert now.status == VisitStatus.PROPOSED and now.round == visit.round
        assert (now.supervisor_state, now.host_state, now.funding_state) == (PartyState.PENDING,) * 3
        assert declines(w) == []

    world(test)


def test_a_teams_visitor_moves_a_confirmed_visit(world: Any) -> None:
    async def test(w: World) -> None:
        setup = await everyone_in_teams(w)
        bot = w.bot
        visit = setup["visit"]
        value = f"{visit.id}:{visit.round}"
        await w.execute(*BOSS, ids.SUPERVISOR_APPROVE, value)
        await w.execute(*HOST, f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}")
        await w.execute(*COORD, ids.FUNDING_APPROVE, value)
        assert the_visit(bot).status == VisitStatus.CONFIRMED

        pressed = [
            b
            for b in buttons_in(w.cards_to(conversation(TEAMS_VISITOR)))
            if (b.get("data") or {}).get("action_id") == ids.VISIT_MOVE
        ]
        assert pressed and pressed[-1]["data"]["msteams"] == {"type": "task/fetch"}

        card = card_of(await w.dialog_open(*VISITOR, ids.VISIT_MOVE, pressed[-1]["data"]["value"]))
        data = submit_data(card)
        assert data["callback_id"] == ids.MOVE_VIEW
        # The same day: shown again with the error, what was typed kept, nothing changed.
        same = {
            **data,
            f"{ids.PROPOSE_DATE}_1": "2026-12-02",
            ids.PROPOSE_KM: "130",
            ids.PROPOSE_TICKETS: "0",
        }
        again = card_of(await w.dialog_submit(*VISITOR, same))
        shown = json.dumps(again)
        assert "Attention" in shown and '"130"' in shown
        assert the_visit(bot).status == VisitStatus.CONFIRMED and the_visit(bot).round == visit.round

        moved = {**same, f"{ids.PROPOSE_DATE}_1": "2026-12-16", ids.PROPOSE_KM: "120"}
        done = await w.dialog_submit(*VISITOR, moved)
        assert done["task"]["type"] == "message", done
        assert done["task"]["value"] == "Vierailu on siirretty. Kaikki osapuolet saavat tiedon."
        now = the_visit(bot)
        assert now.status == VisitStatus.PROPOSED and now.round == visit.round + 1
        assert (now.supervisor_state, now.host_state, now.funding_state) == (
            PartyState.PENDING,
            PartyState.PENDING,
            PartyState.APPROVED,
        )
        # The host and the supervisor are asked again, in Teams.
        for user in (HOST[0], BOSS[0]):
            assert all(check_card(c) == [] for c in w.cards_to(conversation(user)))
        # The old form posted again (its round has passed): nothing more happens.
        stale = await w.dialog_submit(*VISITOR, moved)
        assert stale["task"]["type"] == "message"
        assert the_visit(bot).round == visit.round + 1

    world(test)


def test_a_teams_host_offers_other_dates(world: Any) -> None:
    async def test(w: World) -> None:
        setup = await everyone_in_teams(w)
        visit = setup["visit"]
        value = f"{visit.id}:{visit.round}"
        card = card_of(await w.dialog_open(*HOST, ids.HOST_COUNTER, value))
        data = submit_data(card)
        assert data["callback_id"] == ids.COUNTER_VIEW
        again = card_of(await w.dialog_submit(*HOST, {**data, ids.DECLINE_REASON: "Muut päivät sopivat."}))
        shown = json.dumps(again, ensure_ascii=False)
        assert "Attention" in shown and "Muut päivät sopivat." in shown
        assert the_visit(w.bot).host_state == PartyState.PENDING

        dates = {f"{ids.PROPOSE_DATE}_1": "2026-12-09", f"{ids.PROPOSE_DATE}_2": "2026-12-10"}
        done = await w.dialog_submit(*HOST, {**data, **dates})
        assert done["task"]["value"] == "Muut päivät on lähetetty vierailijalle.", done
        assert the_visit(w.bot).host_state == PartyState.COUNTERED
        # The visitor picks one of them in Teams (an Action.Execute on their card).
        picks = [
            b
            for b in buttons_in(w.cards_to(conversation(TEAMS_VISITOR)))
            if str((b.get("data") or {}).get("action_id", "")).startswith(f"{ids.VISITOR_PICK}_")
        ]
        assert picks and all(b["type"] == "Action.Execute" for b in picks)

    world(test)


def test_after_the_day_it_was_moved(world: Any) -> None:
    async def test(w: World) -> None:
        setup = await everyone_in_teams(w)
        bot = w.bot
        visit = setup["visit"]
        value = f"{visit.id}:{visit.round}"
        # Before the visit is confirmed, "it was moved" does not open (nothing to move yet).
        early = await w.dialog_open(*VISITOR, ids.HAPPENED_MOVED, value)
        assert early["task"]["type"] == "message"
        await w.execute(*BOSS, ids.SUPERVISOR_APPROVE, value)
        await w.execute(*HOST, f"{ids.HOST_ACCEPT}_1", f"{value}:{first_date(bot, visit)}")
        await w.execute(*COORD, ids.FUNDING_APPROVE, value)
        bot.clock.advance(days=9)  # the day (2.12.) has passed, nobody has said it happened

        card = card_of(await w.dialog_open(*VISITOR, ids.HAPPENED_MOVED, value))
        data = submit_data(card)
        assert data["callback_id"] == ids.MOVE_VIEW
        done = await w.dialog_submit(*VISITOR, {**data, f"{ids.PROPOSE_DATE}_1": "2026-12-16"})
        assert done["task"]["type"] == "message", done
        moved = the_visit(bot)
        assert moved.status == VisitStatus.PROPOSED and moved.happened is None

    world(test)


def test_a_teams_visitor_sends_an_unanswered_request_on(world: Any) -> None:
    """The host did not answer in time: the deadline's "send it on" opens the forward dialog
    (the reminder's id is the button's value); only the visitor may use it."""
    from tests.e2e.test_deadlines import a_visit_waiting_for_the_host, at_nine
    from tests.e2e.test_reminders_flow import sweep_for_bot
    from tests.e2e.visit_helpers import VISITOR as SLACK_VISITOR

    async def test(w: World) -> None:
        bot = w.bot
        setup, visit, _day, asked_on = a_visit_waiting_for_the_host(bot)
        lapse = at_nine(next_working_day(add_working_days(asked_on, deadlines.DEFAULT_DAYS)))
        sweep_for_bot(bot, lapse)
        with bot.session_factory() as session:
            reminder = next(
                r.id
                for r in session.scalars(
                    select(Reminder).where(
                        Reminder.kind == deadlines.DECISION_DEADLINE, Reminder.recipient == SLACK_VISITOR
                    )
                )
                if (r.params or {}).get("party") == "host"
            )
            tervo = session.scalar(select(Library.id).where(Library.key == "tervo"))
        assert reminder is not None and tervo is not None
        me = await slack_visitor_in_teams(w)
        await w.say(*STRANGER, "apua")

        refused = await w.dialog_open(*STRANGER, ids.DEADLINE_FORWARD, str(reminder))
        assert refused["task"]["type"] == "message"
        card = card_of(await w.dialog_open(*me, ids.DEADLINE_FORWARD, str(reminder)))
        data = submit_data(card)
        assert data["callback_id"] == ids.FORWARD_VIEW and str(tervo) in json.dumps(card)

        # Forged by a stranger: nothing; the host's own library (not offered): shown again.
        forged = await w.dialog_submit(
            *STRANGER, {**data, ids.FORWARD_HOST: str(tervo), ids.PROPOSE_KM: "120"}
        )
        assert forged["task"]["type"] == "message"
        own = {**data, ids.FORWARD_HOST: str(setup["host"].id), ids.PROPOSE_KM: "120"}
        card_of(await w.dialog_submit(*me, own))
        assert the_visit(bot).host_library_id == setup["host"].id

        sent = {**data, ids.FORWARD_HOST: str(tervo), ids.PROPOSE_KM: "120"}
        done = await w.dialog_submit(*me, sent)
        assert done["task"]["value"] == "Pyyntö on lähetetty toiseen kirjastoon.", done
        moved = the_visit(bot)
        assert moved.host_library_id == tervo and moved.round == visit.round + 1

    world(test)


async def slack_visitor_in_teams(w: World) -> tuple[str, str]:
    """The Slack visitor's own Teams account (their profile carries their Entra id)."""
    from tests.e2e.visit_helpers import VISITOR as SLACK_VISITOR

    with w.bot.session_factory.begin() as session:
        profile = session.scalar(select(StaffProfile).where(StaffProfile.slack_user_id == SLACK_VISITOR))
        profile.directory_id = "aad-slack-visitor"
    await w.say("29:slack-visitor", "aad-slack-visitor", "apua")
    assert person_of(w.bot, "29:slack-visitor") == SLACK_VISITOR
    return "29:slack-visitor", "aad-slack-visitor"


def test_a_teams_visitor_replaces_a_declined_stop(world: Any) -> None:
    from tests.e2e.test_decide import approve, press, value, wait_until
    from tests.e2e.test_study_trip import TERVO, propose_trip, stops_of, trip_setup
    from tests.e2e.visit_helpers import only_visit, posted_to, settle

    async def test(w: World) -> None:
        bot = w.bot
        setup = trip_setup(bot)
        topic = setup["topic"].id
        propose_trip(bot, setup, (setup["ranta"].id, topic), (setup["tervo"].id, topic))
        bot.api.wait_for("chat.postMessage", count=5)
        visit = only_visit(bot.session_factory)
        for party in ("supervisor", "host", "funding"):
            approve(bot, visit, party)
        wait_until(bot, lambda: posted_to(bot, TERVO))  # the stops are asked once the day is agreed
        settle(bot)
        stop3 = value(visit, 3)
        press(bot, ids.STOP_DECLINE, stop3, TERVO)
        wait_until(bot, lambda: stops_of(bot)[1][1] == PartyState.DECLINED)
        me = await slack_visitor_in_teams(w)
        await w.say(*STRANGER, "apua")

        refused = await w.dialog_open(*STRANGER, ids.STOP_REPLACE, stop3)
        assert refused["task"]["type"] == "message"
        card = card_of(await w.dialog_open(*me, ids.STOP_REPLACE, stop3))
        data = submit_data(card)
        assert data["callback_id"] == ids.STOP_REPLACE_VIEW
        forged = await w.dialog_submit(*STRANGER, {**data, ids.STOP_REPLACE_HOST: str(setup["siili"].id)})
        assert forged["task"]["type"] == "message"
        # Tervo declined: it cannot be chosen again (the dialog again, with the error).
        card_of(await w.dialog_submit(*me, {**data, ids.STOP_REPLACE_HOST: str(setup["tervo"].id)}))
        assert stops_of(bot)[1][0] == "tervo"
        done = await w.dialog_submit(*me, {**data, ids.STOP_REPLACE_HOST: str(setup["siili"].id)})
        assert done["task"]["value"] == "Uusi kohde on valittu. Sen yhteyshenkilö saa pyynnön.", done
        assert stops_of(bot)[1] == ("siilinjarvi", PartyState.PENDING, "", True)

    world(test)


def test_a_teams_visitor_gives_new_dates_after_they_lapsed(world: Any) -> None:
    from tests.e2e.test_dates_lapse import days_later, host_accept_buttons, working_days
    from tests.e2e.test_decide import approve, press, wait_until
    from tests.e2e.visit_helpers import HOST1, only_visit, propose

    async def test(w: World) -> None:
        bot = w.bot
        setup = set_up_people(bot)
        first, second, *later = working_days(bot, 12)
        visit = propose(bot, setup, dates=(first.isoformat(), second.isoformat(), None))
        approve(bot, visit, "supervisor")
        approve(bot, visit, "funding")
        wait_until(bot, lambda: only_visit(bot.session_factory).funding_state == PartyState.APPROVED)
        accept = host_accept_buttons(bot)[0]
        days_later(bot, second)  # both days have come: the host's answer comes too late
        press(bot, accept["action_id"], accept["value"], HOST1)
        wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.LAPSED)
        me = await slack_visitor_in_teams(w)
        await w.say(*STRANGER, "apua")
        value = f"{visit.id}:{visit.round}"

        refused = await w.dialog_open(*STRANGER, ids.VISIT_REDATE, value)
        assert refused["task"]["type"] == "message"
        card = card_of(await w.dialog_open(*me, ids.VISIT_REDATE, value))
        data = submit_data(card)
        assert data["callback_id"] == ids.REDATE_VIEW
        past = (second - timedelta(days=7)).isoformat()
        card_of(await w.dialog_submit(*me, {**data, f"{ids.PROPOSE_DATE}_1": past}))
        assert the_visit(bot).host_state == PartyState.LAPSED
        done = await w.dialog_submit(*me, {**data, f"{ids.PROPOSE_DATE}_1": later[5].isoformat()})
        assert done["task"]["value"] == "Uudet päivät on lähetetty kohdekirjastolle.", done
        assert the_visit(bot).host_state == PartyState.PENDING

    world(test)

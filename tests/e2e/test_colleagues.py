"""Colleagues together: a pair in one car with two supervisors, each consenting for their own
person; the km allowance once, to the driver, with the passenger supplement the region pays; a
colleague withdrawing alone, a colleague's supervisor declining; everyone told."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.views.limits import check_message, check_view
from models import PartyState, Region, Visit, VisitStatus, VisitTraveller
from tests.conftest import COORDINATOR, Bot
from tests.e2e.test_decide import ephemerals, press, value, wait_until
from tests.e2e.visit_helpers import (
    HOST1,
    SUPERVISOR,
    VISITOR,
    buttons,
    count,
    last_update_for,
    notices_to,
    only_visit,
    posted_to,
    proposal_values,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import fixture

PAIR = "U0PAIR"  # the colleague who comes along
PAIR_BOSS = "U0PAIRBOSS"  # the colleague's own supervisor


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def pays_supplement(bot: Bot) -> None:
    with bot.session_factory.begin() as session:
        for region in session.scalars(select(Region)):
            region.pays_passenger_supplement = True


def with_colleague(values: dict[str, Any], colleague: str, boss: str | None) -> dict[str, Any]:
    values[ids.PROPOSE_COLLEAGUES] = {
        ids.PROPOSE_COLLEAGUES: {"type": "multi_users_select", "selected_users": [colleague]}
    }
    block = f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{colleague}"
    values[block] = {ids.PROPOSE_COLLEAGUE_SUPERVISOR: {"type": "users_select", "selected_user": boss}}
    return values


def propose_pair(bot: Bot, setup: dict[str, Any]) -> Visit:
    values = with_colleague(proposal_values(setup["topic"].id, setup["host"].id), PAIR, PAIR_BOSS)
    reply = bot.slack.submit(ids.PROPOSE_VIEW, values)
    assert reply.json()["response_action"] == "update", reply.text
    bot.api.wait_for("chat.postMessage", count=7)  # visitor, colleague, 2 supervisors, 2 hosts, funding
    return only_visit(bot.session_factory)


def test_choosing_a_colleague_adds_their_supervisor_field_with_the_visitors_to_start_with(bot: Bot) -> None:
    set_up_people(bot)
    bot.api.names[PAIR] = "Pirjo Parikainen"
    assert bot.slack.command("ehdota", user=VISITOR).status == 200
    call = bot.api.wait_for("views.open")[-1]
    view = json.loads(call.body["view"]) if isinstance(call.body["view"], str) else call.body["view"]
    view = dict(view, id="V0FORM", hash="1700000000.aaaa")
    view["state"] = {
        "values": {ids.PROPOSE_SUPERVISOR: {ids.PROPOSE_SUPERVISOR: {"selected_user": SUPERVISOR}}}
    }
    payload = fixture("block_actions_message")
    payload["user"].update(id=VISITOR, username="u0visitor", name="u0visitor")
    payload["container"] = {"type": "view", "view_id": "V0FORM"}
    payload["view"] = view
    payload["actions"] = [
        {
            "type": "multi_users_select",
            "action_id": ids.PROPOSE_COLLEAGUES,
            "block_id": ids.PROPOSE_COLLEAGUES,
            "selected_users": [PAIR],
            "action_ts": "1700000001.000200",
        }
    ]
    assert bot.slack.interactive(payload).status == 200
    update = bot.api.wait_for("views.update")[-1].body
    shown = json.loads(update["view"]) if isinstance(update["view"], str) else update["view"]
    check_view(shown)
    blocks = [blk.get("block_id") for blk in shown["blocks"]]
    field = f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{PAIR}"
    assert blocks.index(field) == blocks.index(ids.PROPOSE_COLLEAGUES) + 1
    block = shown["blocks"][blocks.index(field)]
    assert block["label"]["text"] == "Esihenkilö: Pirjo Parikainen"
    assert block["element"]["initial_user"] == SUPERVISOR  # the same as the visitor's, unless changed


def test_a_pair_in_one_car_with_two_supervisors(bot: Bot) -> None:
    setup = set_up_people(bot)
    pays_supplement(bot)
    bot.api.locales.update({PAIR: "fi-FI", PAIR_BOSS: "fi-FI", COORDINATOR: "fi-FI"})
    visit = propose_pair(bot, setup)
    with bot.session_factory() as session:
        rows = session.scalars(select(VisitTraveller).order_by(VisitTraveller.position)).all()
        assert [(r.user_id, r.supervisor_id) for r in rows] == [(VISITOR, SUPERVISOR), (PAIR, PAIR_BOSS)]

    # Each supervisor is asked once, for their own person; the colleague has their own message.
    mine = text_of(posted_to(bot, SUPERVISOR)[-1])
    theirs = text_of(posted_to(bot, PAIR_BOSS)[-1])
    assert f"alaisesi: <@{VISITOR}>" in mine and f"alaisesi: <@{PAIR}>" in theirs
    assert ids.SUPERVISOR_APPROVE in buttons(posted_to(bot, PAIR_BOSS)[-1])
    colleague = posted_to(bot, PAIR)[-1]
    check_message(colleague)
    assert "lähdet mukaan" in text_of(colleague) and ids.VISIT_WITHDRAW in buttons(colleague)

    # One car: 120 km x (0,55 + 1 passenger x 0,04) = 70,80, paid once, to the driver.
    funding = plain(text_of(posted_to(bot, COORDINATOR)[-1]))
    assert "120 km × (0,55 € + 1 × 0,04 € matkustajalisä) = 70,80 €" in funding
    assert "70,80 € (35,40 € / matkustaja, 2 matkustajaa)" in funding

    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    wait_until(bot, lambda: ids.SUPERVISOR_APPROVE not in buttons(last_update_for(bot, SUPERVISOR)))
    assert only_visit(bot.session_factory).supervisor_state == PartyState.PENDING  # the other one waits
    # (each message is updated in turn: the other supervisor's may come a moment later)
    wait_until(bot, lambda: ids.SUPERVISOR_APPROVE in buttons(last_update_for(bot, PAIR_BOSS)))
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)  # a second press decides nothing
    wait_until(bot, lambda: len(ephemerals(bot)) >= 1)
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), PAIR_BOSS)
    wait_until(bot, lambda: only_visit(bot.session_factory).supervisor_state == PartyState.APPROVED)

    date_id = next(
        iter(b for k, b in buttons(posted_to(bot, HOST1)[-1]).items() if k.startswith(ids.HOST_ACCEPT))
    )
    press(bot, date_id["action_id"], date_id["value"], HOST1)
    press(bot, ids.FUNDING_APPROVE, value(visit), COORDINATOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert only_visit(bot.session_factory).funded_cost == Decimal("70.80")
    bot.api.wait_for("files.completeUploadExternal", count=7)
    invited = {c.body.get("channel_id") for c in bot.api.of("files.completeUploadExternal")}
    assert {"D" + PAIR[1:], "D" + VISITOR[1:]} <= invited  # every traveller gets the invite

    # The colleague withdraws alone: the visit goes on, at the cost of one traveller.
    settle(bot)
    press(bot, ids.VISIT_WITHDRAW, value(only_visit(bot.session_factory)), PAIR)
    wait_until(bot, lambda: only_visit(bot.session_factory).funded_cost == Decimal("66.00"))
    after = only_visit(bot.session_factory)
    assert after.status == VisitStatus.CONFIRMED
    wait_until(bot, lambda: "Kollega perui osallistumisensa" in notices_to(bot, VISITOR))
    assert "Et ole enää mukana" in text_of(last_update_for(bot, PAIR))
    # Their calendar drops the visit; nobody else gets an invite for it.
    bot.api.wait_for("files.completeUploadExternal", count=8)
    last = bot.api.of("files.completeUploadExternal")[-1].body
    assert last.get("channel_id") == "D" + PAIR[1:]
    assert "METHOD:CANCEL" in [c.body["raw"] for c in bot.api.of("upload")][-1]
    settle(bot)
    assert len(bot.api.of("files.completeUploadExternal")) == 8
    assert "66,00 €" in plain(text_of(last_update_for(bot, COORDINATOR)))


def test_a_colleagues_supervisor_declining_takes_only_the_colleague_off(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose_pair(bot, setup)
    reply = bot.slack.submit(
        ids.DECLINE_VIEW,
        {ids.DECLINE_REASON: {ids.DECLINE_REASON: {"type": "plain_text_input", "value": "Kiireinen viikko"}}},
        user=PAIR_BOSS,
        private_metadata=json.dumps({"visit": visit.id, "round": visit.round, "party": "supervisor"}),
    )
    assert reply.status == 200
    wait_until(bot, lambda: count(bot.session_factory, VisitTraveller, consent=PartyState.DECLINED) == 1)
    after = only_visit(bot.session_factory)
    assert after.status == VisitStatus.PROPOSED  # the visit goes on for the visitor
    assert after.supervisor_state == PartyState.PENDING  # the visitor's own supervisor is still asked
    wait_until(bot, lambda: "ei hyväksynyt kaikkien osallistumista" in notices_to(bot, VISITOR))
    wait_until(bot, lambda: "did not approve everyone" in notices_to(bot, PAIR))  # told too (in English)
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).supervisor_state == PartyState.APPROVED)


def test_nobody_but_a_colleague_withdraws_and_a_colleague_is_no_supervisor_of_themself(bot: Bot) -> None:
    setup = set_up_people(bot)
    values = with_colleague(proposal_values(setup["topic"].id, setup["host"].id), PAIR, PAIR)
    errors = bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"]
    assert f"{ids.PROPOSE_COLLEAGUE_SUPERVISOR}_{PAIR}" in errors
    values = with_colleague(proposal_values(setup["topic"].id, setup["host"].id), VISITOR, None)
    assert (
        "olet jo mukana"
        in bot.slack.submit(ids.PROPOSE_VIEW, values).json()["errors"][ids.PROPOSE_COLLEAGUES]
    )
    assert count(bot.session_factory, Visit) == 0

    visit = propose_pair(bot, setup)
    press(bot, ids.VISIT_WITHDRAW, value(visit), SUPERVISOR)  # not a traveller
    press(bot, ids.VISIT_WITHDRAW, value(visit), VISITOR)  # the visitor cancels instead
    wait_until(bot, lambda: len(ephemerals(bot)) >= 2)
    assert count(bot.session_factory, VisitTraveller, withdrawn_at=None) == 2


def test_a_coordinator_says_whether_the_region_pays_the_passenger_supplement(bot: Bot) -> None:
    from tests.e2e.test_desk import _home_for, _open_modal, _values

    def region_pays() -> bool:
        with bot.session_factory() as session:
            return all(r.pays_passenger_supplement for r in session.scalars(select(Region)))

    _home_for(bot, COORDINATOR)
    view = _open_modal(bot, ids.OPEN_RATES)
    box = next(b for b in view["blocks"] if b.get("block_id") == ids.DESK_SUPPLEMENT)
    assert "initial_options" not in box["element"]  # not paid until a coordinator says so
    checked = {"type": "checkboxes", "selected_options": [{"value": "pays"}]}
    answer = bot.slack.submit(
        ids.RATES_VIEW, _values(**{ids.DESK_SUPPLEMENT: checked}), user=COORDINATOR
    ).json()  # no new rate: only the setting
    assert answer["response_action"] == "update"
    assert region_pays()
    shown = next(b for b in answer["view"]["blocks"] if b.get("block_id") == ids.DESK_SUPPLEMENT)
    assert shown["element"]["initial_options"][0]["value"] == "pays"
    unchecked = {"type": "checkboxes", "selected_options": []}
    bot.slack.submit(ids.RATES_VIEW, _values(**{ids.DESK_SUPPLEMENT: unchecked}), user=COORDINATOR)
    assert not region_pays()

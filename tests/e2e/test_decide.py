"""The three decisions, counter-proposals, declines, cancel and move, through the real App."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from bot import ids
from bot.views.limits import check_message, check_view
from models import PartyState, Visit, VisitDecision, VisitStatus
from tests.conftest import COORDINATOR, Bot
from tests.e2e.visit_helpers import (
    HOST1,
    HOST2,
    STRANGER,
    SUPERVISOR,
    VISITOR,
    audit_actions,
    buttons,
    count,
    decisions,
    jsonish,
    last_update_for,
    only_visit,
    posted_to,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_requests import date_value, text_value


@pytest.fixture(autouse=True)
def _quiet_at_the_end(bot: Bot) -> Iterator[None]:
    yield
    settle(bot)


def value(visit: Visit, extra: int | None = None, round_: int | None = None) -> str:
    return f"{visit.id}:{round_ or visit.round}" + (f":{extra}" if extra is not None else "")


def first_date_id(visit: Visit, bot: Bot) -> int:
    from models import VisitDate

    with bot.session_factory() as session:
        return session.scalars(
            select(VisitDate.id)
            .where(VisitDate.visit_id == visit.id, VisitDate.active.is_(True))
            .order_by(VisitDate.id)
        ).first()


def press(bot: Bot, action_id: str, val: str, user: str) -> None:
    reply = bot.slack.action(action_id, val, user=user)
    assert reply.status == 200, reply.text


def ephemerals(bot: Bot) -> list[str]:
    return [c.body.get("text", "") for c in bot.api.of("response_url")]


def wait_ephemeral(bot: Bot, n: int = 1) -> list[str]:
    bot.api.wait_for("response_url", count=n)
    return ephemerals(bot)


def approve(bot: Bot, visit: Visit, party: str) -> None:
    if party == "supervisor":
        press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    elif party == "funding":
        press(bot, ids.FUNDING_APPROVE, value(visit), COORDINATOR)
    else:
        press(bot, f"{ids.HOST_ACCEPT}_1", value(visit, first_date_id(visit, bot)), HOST1)


def wait_until(bot: Bot, predicate: Any, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except AssertionError:  # what the predicate looks at has not arrived yet
            pass
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def confirm_visit(
    bot: Bot, visit: Visit, order: tuple[str, ...] = ("supervisor", "host", "funding")
) -> Visit:
    for n, party in enumerate(order, start=1):
        approve(bot, visit, party)
        wait_until(bot, lambda n=n: count(bot.session_factory, VisitDecision) >= n)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    return only_visit(bot.session_factory)


def uploads(bot: Bot, count_: int) -> list[str]:
    bot.api.wait_for("files.completeUploadExternal", count=count_)
    return [c.body["raw"] for c in bot.api.of("upload")]


@pytest.mark.parametrize("order", list(itertools.permutations(("supervisor", "host", "funding"))))
def test_three_yeses_in_any_order_confirm_and_send_invites(bot: Bot, order: tuple[str, ...]) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    visit = confirm_visit(bot, visit, order)
    assert visit.status == VisitStatus.CONFIRMED
    assert str(visit.chosen_date) == "2026-12-02"
    assert [d[0] for d in decisions(bot.session_factory)] == list(order)
    icses = uploads(bot, 5)  # visitor, supervisor, two host contacts, the coordinator
    assert len(icses) == 5
    ics = icses[0]
    assert "BEGIN:VTIMEZONE" in ics and "TZID:Europe/Helsinki" in ics
    assert f"UID:visit-{visit.id}@vertaisbot" in ics and "SEQUENCE:0" in ics
    assert "DTSTART;TZID=Europe/Helsinki:20261202T090000" in ics
    completes = bot.api.of("files.completeUploadExternal")
    assert {c.body["channel_id"] for c in completes} == {
        "D0VISITOR",
        "D0BOSS",
        "D0HOST1",
        "D0HOST2",
        "D0COORD",
    }
    assert any("Vierailu on sovittu" in c.body.get("initial_comment", "") for c in completes)
    # The supervisor's message no longer has buttons, and says who approved.
    supervisor = last_update_for(bot, SUPERVISOR)
    assert buttons(supervisor) == {}
    assert "hyväksyi <@U0BOSS>" in text_of(supervisor)
    assert audit_actions(bot.session_factory) == [
        "visit.propose",
        "visit.approved",
        "visit.approved",
        "visit.approved",
    ]


def test_wrong_people_pressing_every_button_change_nothing(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    date_id = first_date_id(visit, bot)
    attempts = [
        (ids.SUPERVISOR_APPROVE, value(visit), STRANGER),
        (ids.SUPERVISOR_APPROVE, value(visit), VISITOR),
        (ids.SUPERVISOR_APPROVE, value(visit), COORDINATOR),
        (ids.SUPERVISOR_DECLINE, value(visit), HOST1),
        (f"{ids.HOST_ACCEPT}_1", value(visit, date_id), STRANGER),
        (f"{ids.HOST_ACCEPT}_1", value(visit, date_id), SUPERVISOR),
        (ids.HOST_COUNTER, value(visit), VISITOR),
        (ids.HOST_DECLINE, value(visit), STRANGER),
        (ids.FUNDING_APPROVE, value(visit), HOST1),
        (ids.FUNDING_APPROVE, value(visit), SUPERVISOR),
        (ids.FUNDING_DECLINE, value(visit), VISITOR),
        (ids.VISIT_CANCEL, value(visit), HOST2),
        (ids.VISIT_CANCEL, value(visit), SUPERVISOR),
    ]
    for n, (action_id, val, user) in enumerate(attempts, start=1):
        press(bot, action_id, val, user)
        texts = wait_ephemeral(bot, n)
        assert (
            "ei ole sinun päätettävissäsi" in texts[-1]
            or "inte ditt beslut" in texts[-1]
            or ("not yours" in texts[-1])
        ), (action_id, user, texts[-1])
    assert decisions(bot.session_factory) == []
    assert bot.api.of("views.open") == []
    fresh = only_visit(bot.session_factory)
    assert (fresh.status, fresh.version) == (VisitStatus.PROPOSED, visit.version)
    assert audit_actions(bot.session_factory) == ["visit.propose"]


def test_a_coordinator_may_decide_for_the_host(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    press(bot, f"{ids.HOST_ACCEPT}_2", value(visit, first_date_id(visit, bot) + 1), COORDINATOR)
    wait_until(bot, lambda: decisions(bot.session_factory) == [("host", COORDINATOR, "approved")])
    assert str(only_visit(bot.session_factory).chosen_date) == "2026-12-03"


def test_double_press_and_two_contacts_give_one_decision(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 1)
    press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)  # the double press
    assert "<@U0BOSS> ehti jo päättää" in wait_ephemeral(bot, 1)[-1]
    date_id = first_date_id(visit, bot)
    press(bot, f"{ids.HOST_ACCEPT}_1", value(visit, date_id), HOST1)
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 2)
    press(bot, f"{ids.HOST_ACCEPT}_2", value(visit, date_id + 1), HOST2)  # a second contact, too late
    assert "<@U0HOST1>" in wait_ephemeral(bot, 2)[-1]
    assert decisions(bot.session_factory) == [
        ("supervisor", SUPERVISOR, "approved"),
        ("host", HOST1, "approved"),
    ]
    assert str(only_visit(bot.session_factory).chosen_date) == "2026-12-02"
    wait_until(
        bot, lambda: buttons(last_update_for(bot, HOST2)) == {}
    )  # the loser's message lost its buttons


def test_a_replayed_request_is_decided_once(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    payload_value = value(visit)
    press(bot, ids.FUNDING_APPROVE, payload_value, COORDINATOR)
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 1)
    reply = bot.slack.action(
        ids.FUNDING_APPROVE, payload_value, user=COORDINATOR, headers={"X-Slack-Retry-Num": "1"}
    )
    assert reply.status == 200
    wait_ephemeral(bot, 1)
    assert decisions(bot.session_factory) == [("funding", COORDINATOR, "approved")]


def test_a_stale_message_from_an_earlier_round_is_refused(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    press(bot, ids.SUPERVISOR_APPROVE, f"{visit.id}:7", SUPERVISOR)
    assert wait_ephemeral(bot)[-1]
    assert decisions(bot.session_factory) == []


@pytest.mark.parametrize(
    ("action_id", "user", "party"),
    [
        (ids.SUPERVISOR_DECLINE, SUPERVISOR, "supervisor"),
        (ids.HOST_DECLINE, HOST2, "host"),
        (ids.FUNDING_DECLINE, COORDINATOR, "funding"),
    ],
)
def test_decline_by_each_party_ends_the_visit_and_offers_next_hosts(
    bot: Bot, action_id: str, user: str, party: str
) -> None:
    from tests.find_support import add_offer

    setup = set_up_people(bot)
    add_offer(bot.session_factory, "tervo", [setup["topic"].key], bot.clock(), contacts=("U0TERVO",))
    visit = propose(bot, setup)
    press(bot, action_id, value(visit), user)
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    check_view(view)
    assert view["callback_id"] == ids.DECLINE_VIEW
    metadata = view["private_metadata"]
    empty = bot.slack.submit(
        ids.DECLINE_VIEW,
        {ids.DECLINE_REASON: {ids.DECLINE_REASON: text_value("  ")}},
        user=user,
        private_metadata=metadata,
    )
    assert ids.DECLINE_REASON in empty.json()["errors"]
    assert only_visit(bot.session_factory).status == VisitStatus.PROPOSED
    reply = bot.slack.submit(
        ids.DECLINE_VIEW,
        {ids.DECLINE_REASON: {ids.DECLINE_REASON: text_value("Kevät on meillä liian kiireinen <!channel>")}},
        user=user,
        private_metadata=metadata,
    )
    assert reply.json() == {"response_action": "clear"}
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.DECLINED)
    assert decisions(bot.session_factory) == [(party, user, "declined")]
    wait_until(bot, lambda: any("päättyi" in m.get("text", "") for m in posted_to(bot, "D" + VISITOR[1:])))
    card = last_update_for(bot, VISITOR)
    check_message({"text": card["text"], "blocks": jsonish(card["blocks"])})
    assert "&lt;!channel&gt;" in text_of(card)  # the reason is shown, inert
    offered = [b for a, b in buttons(card).items() if a == ids.PROPOSE_HOST]
    assert offered, "the visitor is offered the next hosts for the same topic"
    assert json.loads(offered[0]["value"])["topic"] == setup["topic"].id
    assert ids.VISIT_CANCEL not in buttons(card)


def test_counter_proposal_then_the_visitor_picks(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    press(bot, ids.HOST_COUNTER, value(visit), HOST1)
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    assert view["callback_id"] == ids.COUNTER_VIEW
    metadata = view["private_metadata"]

    def dates(*days: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for i, day in enumerate(days, start=1):
            values[f"{ids.PROPOSE_DATE}_{i}"] = {f"{ids.PROPOSE_DATE}_{i}": date_value(day)}
        return values

    bad = bot.slack.submit(
        ids.COUNTER_VIEW, dates("2026-12-06", None, None), user=HOST1, private_metadata=metadata
    )
    assert (
        bad.json()["errors"][f"{ids.PROPOSE_DATE}_1"] == "Dagen infaller under veckoslutet. Välj en vardag."
    )
    assert only_visit(bot.session_factory).host_state == PartyState.PENDING
    good = bot.slack.submit(
        ids.COUNTER_VIEW, dates("2026-12-09", "2026-12-10", None), user=HOST1, private_metadata=metadata
    )
    assert good.json() == {"response_action": "clear"}
    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.COUNTERED)
    wait_until(bot, lambda: ids.VISITOR_PICK + "_2" in buttons(last_update_for(bot, VISITOR)))
    card = last_update_for(bot, VISITOR)
    pick = buttons(card)[f"{ids.VISITOR_PICK}_2"]
    assert pick["style"] == "primary"
    # the host cannot pick for the visitor
    press(bot, f"{ids.VISITOR_PICK}_2", pick["value"], HOST1)
    assert "ei ole sinun" in wait_ephemeral(bot)[-1] or "inte ditt" in ephemerals(bot)[-1]
    press(bot, f"{ids.VISITOR_PICK}_2", pick["value"], VISITOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).host_state == PartyState.APPROVED)
    assert str(only_visit(bot.session_factory).chosen_date) == "2026-12-10"
    fresh = only_visit(bot.session_factory)
    approve(bot, fresh, "supervisor")
    approve(bot, fresh, "funding")
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert [d[2] for d in decisions(bot.session_factory)] == ["countered", "picked", "approved", "approved"]


def test_cancel_after_confirmation_sends_a_cancelling_invite(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))
    uploads(bot, 5)
    card = last_update_for(bot, VISITOR)
    cancel = buttons(card)[ids.VISIT_CANCEL]
    assert cancel["style"] == "danger" and "confirm" in cancel
    press(bot, ids.VISIT_CANCEL, cancel["value"], VISITOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CANCELLED)
    icses = uploads(bot, 10)[5:]
    assert len(icses) == 5 and all("METHOD:CANCEL" in ics and "SEQUENCE:1" in ics for ics in icses), icses
    assert all(f"UID:visit-{visit.id}@vertaisbot" in ics for ics in icses)
    press(bot, ids.VISIT_CANCEL, cancel["value"], VISITOR)  # again: nothing more happens
    wait_ephemeral(bot)
    assert [d[2] for d in decisions(bot.session_factory)][-1] == "cancelled"
    assert len([d for d in decisions(bot.session_factory) if d[2] == "cancelled"]) == 1


def test_move_asks_host_and_supervisor_again_and_funding_only_if_cost_rises(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))
    uploads(bot, 5)
    card = last_update_for(bot, VISITOR)
    move = buttons(card)[ids.VISIT_MOVE]
    press(bot, ids.VISIT_MOVE, move["value"], STRANGER)
    assert "not yours to decide" in wait_ephemeral(bot)[-1]  # the stranger reads English
    press(bot, ids.VISIT_MOVE, move["value"], VISITOR)
    view = jsonish(bot.api.wait_for("views.open")[0].body["view"])
    assert view["callback_id"] == ids.MOVE_VIEW
    values = {
        f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-16")},
        ids.PROPOSE_KM: {ids.PROPOSE_KM: text_value("120")},
        ids.PROPOSE_TICKETS: {ids.PROPOSE_TICKETS: text_value("0")},
        ids.PROPOSE_ACCOMMODATION: {ids.PROPOSE_ACCOMMODATION: text_value("")},
    }
    same_day = dict(values, **{f"{ids.PROPOSE_DATE}_1": {f"{ids.PROPOSE_DATE}_1": date_value("2026-12-02")}})
    errors = bot.slack.submit(ids.MOVE_VIEW, same_day, private_metadata=view["private_metadata"]).json()[
        "errors"
    ]
    assert f"{ids.PROPOSE_DATE}_1" in errors
    reply = bot.slack.submit(ids.MOVE_VIEW, values, private_metadata=view["private_metadata"])
    assert reply.json() == {"response_action": "clear"}
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.PROPOSED)
    moved = only_visit(bot.session_factory)
    assert (moved.supervisor_state, moved.host_state, moved.funding_state) == (
        PartyState.PENDING,
        PartyState.PENDING,
        PartyState.APPROVED,
    )
    assert moved.round == 2
    # Calendars follow at once: the new day, tentative (and said so) until it is agreed.
    tentative = uploads(bot, 10)[5:]
    assert all("SEQUENCE:1" in ics and "20261216T090000" in ics for ics in tentative)
    assert all("STATUS:TENTATIVE" in ics for ics in tentative)
    assert any("SIIRTO ODOTTAA HYVÄKSYNTÄÄ" in ics.replace("\r\n ", "") for ics in tentative)
    # the old round's buttons no longer decide anything
    press(bot, ids.SUPERVISOR_APPROVE, f"{visit.id}:1", SUPERVISOR)
    wait_ephemeral(bot, 2)
    assert moved.version == only_visit(bot.session_factory).version
    approve(bot, moved, "host")
    approve(bot, moved, "supervisor")
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CONFIRMED)
    assert str(only_visit(bot.session_factory).chosen_date) == "2026-12-16"
    icses = uploads(bot, 15)[10:]  # the confirmation replaces the tentative invite
    assert all("SEQUENCE:2" in ics and "20261216T090000" in ics for ics in icses)
    assert all("STATUS:CONFIRMED" in ics for ics in icses)


def test_move_with_a_higher_cost_asks_funding_again(bot: Bot) -> None:
    from services.visits import state_machine

    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))
    change = state_machine.move(
        bot.session_factory,
        visit.id,
        __import__("datetime").date(2026, 12, 16),
        actor=VISITOR,
        is_coordinator=False,
        now=bot.clock(),
        km="300",
    )
    assert change.card.funding_state == PartyState.PENDING
    uploads(bot, 5)  # let the confirmation's invites finish before the fake API goes away


def test_statements_per_button_press(bot: Bot, capsys: pytest.CaptureFixture[str]) -> None:
    """Count the SQL statements of each press (the bot runs in this process): none grows per row."""
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    engine = bot.session_factory.kw["bind"]
    counted: list[str] = []

    def on_execute(*args: Any) -> None:
        counted.append(args[2])

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        results = {}
        for party in ("supervisor", "host", "funding"):
            counted.clear()
            before = len(bot.api.calls)
            approve(bot, visit, party)
            wait_until(bot, lambda before=before: len(bot.api.calls) > before + 4)
            import time

            time.sleep(0.3)
            results[party] = len(counted)
        counted.clear()
        press(bot, ids.SUPERVISOR_APPROVE, value(visit), SUPERVISOR)  # a late press
        wait_ephemeral(bot)
        time.sleep(0.3)
        results["late"] = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    with capsys.disabled():
        print(f"\nSQL statements per button press: {results}")
    # A constant handful (the directory caches add a read or two when they refresh), never per row.
    assert all(n <= 45 for n in results.values()), results
    assert only_visit(bot.session_factory).status == VisitStatus.CONFIRMED
    assert len(decisions(bot.session_factory)) == 3  # the late press decided nothing


def test_forged_and_stale_requests_decide_nothing(bot: Bot) -> None:
    import time

    setup = set_up_people(bot)
    visit = propose(bot, setup)
    forged = bot.slack.action(
        ids.SUPERVISOR_APPROVE, value(visit), user=SUPERVISOR, signature="v0=" + "0" * 64
    )
    assert forged.status == 401
    stale = bot.slack.action(
        ids.SUPERVISOR_APPROVE, value(visit), user=SUPERVISOR, timestamp=int(time.time()) - 600
    )
    assert stale.status == 401
    assert decisions(bot.session_factory) == []
    assert only_visit(bot.session_factory).supervisor_state == PartyState.PENDING


def test_two_contacts_pressing_at_the_same_moment_through_the_app(bot: Bot) -> None:
    import threading

    setup = set_up_people(bot)
    visit = propose(bot, setup)
    date_id = first_date_id(visit, bot)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press_as(user: str, n: int) -> None:
        barrier.wait()
        statuses.append(
            bot.slack.action(f"{ids.HOST_ACCEPT}_{n}", value(visit, date_id + n - 1), user=user).status
        )

    threads = [
        threading.Thread(target=press_as, args=(HOST1, 1)),
        threading.Thread(target=press_as, args=(HOST2, 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert statuses == [200, 200]
    wait_until(bot, lambda: len(decisions(bot.session_factory)) == 1)
    told = wait_ephemeral(bot)[-1]
    ((party, winner, outcome),) = decisions(bot.session_factory)
    assert (party, outcome) == ("host", "approved")
    assert f"<@{winner}>" in told
    settle(bot)
    assert len(decisions(bot.session_factory)) == 1


def test_a_late_render_of_an_older_press_does_not_undo_a_newer_one(bot: Bot) -> None:
    """Each press shows itself after its ack, on a thread of its own: the confirmation's
    messages may still be going out when the visitor cancels. What is shown last must be the
    visit as it is, and the stale confirmation must send no invite after the cancelling one."""
    visit = propose(bot, set_up_people(bot))
    notifier = bot.deps.extras["visit_notifier"]
    held: list[Any] = []
    notifier.publish = lambda change: held.append(change) or True  # type: ignore[method-assign]
    try:
        confirm_visit(bot, visit)
        wait_until(bot, lambda: len(held) == 3)
    finally:
        del notifier.publish  # the class's own again
    for change in held[:2]:
        notifier.publish(change)
    cancel = buttons(last_update_for(bot, VISITOR))[ids.VISIT_CANCEL]
    press(bot, ids.VISIT_CANCEL, cancel["value"], VISITOR)
    wait_until(bot, lambda: only_visit(bot.session_factory).status == VisitStatus.CANCELLED)
    uploads(bot, 5)
    settle(bot)
    calls = len(bot.api.calls)
    notifier.publish(held[2])  # the confirmation's own render comes last
    settle(bot)
    late = bot.api.calls[calls:]
    assert [c.method for c in late] == ["chat.update"] * 5  # no invite, no "confirmed" notice
    shown = {c.body["channel"]: jsonish(c.body["blocks"]) for c in late}
    notifier.refresh(visit.id)  # what the messages must show: the visit as it is now
    fresh = {c.body["channel"]: jsonish(c.body["blocks"]) for c in bot.api.calls[calls + 5 :]}
    assert shown == fresh and len(fresh) == 5
    assert "Peruttu" in text_of(last_update_for(bot, VISITOR))

"""Visit reminders end to end with a controlled clock: planned by the visit transitions, sent by
sweeps through the fake Slack Web API, stopped when their thing is done, buttons pressed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from bot.reminder_delivery import SlackReminderDelivery, visit_renderers
from bot.views.limits import check_message, check_view
from models import LibraryContact, PartyState, Reminder, ReminderStatus, Visit, VisitDecision, VisitStatus
from services.common.errors import NotAllowed
from services.outbox import reminders, visit_outbox
from services.outbox.reminders import SweepResult
from services.people import staff
from services.visits import proposing, reminder_buttons, state_machine, visit_lists, visit_reminders
from services.visits.proposing import ProposalInput
from tests.conftest import COORDINATOR, Bot, Clock
from tests.e2e.visit_helpers import (
    HOME_KEY,
    HOST1,
    HOST2,
    HOST_KEY,
    STRANGER,
    SUPERVISOR,
    VISITOR,
    a_topic,
    buttons,
    confirm_directly,
    library,
    only_visit,
    propose,
    set_up_people,
    settle,
    text_of,
)
from tests.fakes.slack_api import Failure, FakeSlackApi

TZ = ZoneInfo("Europe/Helsinki")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(UTC)


@dataclass
class World:
    sf: sessionmaker[Session]
    api: FakeSlackApi
    clock: Clock
    delivery: SlackReminderDelivery
    home_id: int
    host_id: int
    topic_id: int

    def sweep(self, at: datetime) -> SweepResult:
        self.clock.now = at
        self.shown()
        return reminders.sweep(
            self.sf,
            self.delivery,
            now=at,
            tz=TZ,
            kinds=visit_reminders.kinds(),
            coordinators=[COORDINATOR],
        )

    def shown(self) -> None:
        """These tests drive the services without the visit notifier, which would have shown each
        change at once and marked its outbox row delivered (tests/e2e/test_faults.py tests that)."""
        with self.sf.begin() as session:
            session.execute(
                update(Reminder)
                .where(Reminder.kind == visit_outbox.SYNC, Reminder.status == ReminderStatus.PENDING)
                .values(status=ReminderStatus.SENT, claimed_at=None, claim_token=None)
            )

    def propose(
        self, *days: date, travel: str = "car", length: str = "day", learn: str = "", note: str = ""
    ) -> int:
        form = ProposalInput(
            topic_id=self.topic_id,
            host_library_id=self.host_id,
            learn=learn or "Miten <omatoimi> toimii & valvotaan",
            dates=list(days),
            length=length,
            travel_mode=travel,
            km="120",
            tickets="0",
            accommodation="0",
            supervisor_id=SUPERVISOR,
            note=note or "Tulen aamulla",
        )
        change = proposing.propose(
            self.sf, form, visitor_id=VISITOR, home_library_id=self.home_id, now=self.clock()
        )
        return change.card.id

    def decide(self, visit_id: int, party: str, actor: str, *, approve: bool = True) -> None:
        card = visit_lists.card_of(self.sf, visit_id)
        date_id = card.visitor_dates[0].id if party == "host" and card.visitor_dates else None
        state_machine.decide(
            self.sf,
            visit_id,
            party=party,
            approve=approve,
            actor=actor,
            is_coordinator=actor == COORDINATOR,
            now=self.clock(),
            date_id=date_id,
        )

    def confirm(self, visit_id: int) -> None:
        self.decide(visit_id, "supervisor", SUPERVISOR)
        self.decide(visit_id, "host", HOST1)
        self.decide(visit_id, "funding", COORDINATOR)
        assert visit_lists.card_of(self.sf, visit_id).status == VisitStatus.CONFIRMED

    def sent(self) -> list[tuple[str, str]]:
        """(recipient, text) of every message the sweeps posted, in order."""
        return [(c.body["channel"], text_of(c.body)) for c in self.api.of("chat.postMessage")]

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        return [c.body for c in self.api.of("chat.postMessage") if c.body.get("channel") == user]

    def pending(self, visit_id: int) -> list[Reminder]:
        with self.sf() as session:
            return list(
                session.scalars(
                    select(Reminder)
                    .where(
                        Reminder.visit_id == visit_id,
                        Reminder.status == ReminderStatus.PENDING,
                        Reminder.kind != visit_outbox.SYNC,
                    )
                    .order_by(Reminder.next_attempt_at, Reminder.id)
                )
            )


@pytest.fixture
def world(session_factory: sessionmaker[Session], slack_api: FakeSlackApi, clock: Clock) -> World:
    visit_reminders.configure(coordinators=(COORDINATOR,), tz=TZ)
    home = library(session_factory, HOME_KEY)
    host = library(session_factory, HOST_KEY)
    now = clock()
    with session_factory.begin() as session:
        session.add_all(
            [
                LibraryContact(library_id=host.id, slack_user_id=HOST1, added_at=now),
                LibraryContact(library_id=host.id, slack_user_id=HOST2, added_at=now),
            ]
        )
    staff.update_settings(
        session_factory, HOST1, home_library_id=host.id, language="sv", now=now, default_language="fi"
    )
    staff.update_settings(
        session_factory, COORDINATOR, home_library_id=home.id, language="en", now=now, default_language="fi"
    )
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    delivery = SlackReminderDelivery(
        client, session_factory, default_language="fi", renderers=visit_renderers(session_factory)
    )
    return World(session_factory, slack_api, clock, delivery, home.id, host.id, a_topic(session_factory).id)


def kinds_sent(result: SweepResult) -> list[tuple[str, str]]:
    return sorted((r.kind, r.recipient) for r in result.sent)


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


# --- decisions ----------------------------------------------------------------------------------
def test_decision_nudges_at_two_and_four_working_days_then_coordinators_told(world: World) -> None:
    # Proposed on Tuesday 24.11.2026 at 12:00.
    visit_id = world.propose(date(2026, 12, 9), date(2026, 12, 10))
    assert world.sweep(local(2026, 11, 26, 11, 59)).sent == []  # Thursday, a minute early
    first = world.sweep(local(2026, 11, 26, 12, 0))
    assert kinds_sent(first) == sorted(
        ("decision_nudge", who) for who in (SUPERVISOR, HOST1, HOST2, COORDINATOR)
    )
    assert world.sweep(local(2026, 11, 26, 12, 0)).sent == []  # a second sweep sends nothing again
    messages = dict(world.sent())
    assert "odottaa hyväksyntääsi" in messages[SUPERVISOR]
    assert "vill gärna besöka" in messages[HOST1]  # HOST1 reads Swedish
    assert "Sopiiko vierailu" in messages[HOST2]
    assert "the funding is waiting for a decision" in messages[COORDINATOR]
    for message in world.api.of("chat.postMessage"):
        check_message(message.body)

    # The supervisor decides on Friday: their nudges stop, the others' continue.
    world.clock.now = local(2026, 11, 27, 10, 0)
    world.decide(visit_id, "supervisor", SUPERVISOR)
    assert world.sweep(local(2026, 11, 27, 23, 0)).sent == []  # Friday evening: nothing due
    assert world.sweep(local(2026, 11, 28, 12, 0)).sent == []  # Saturday
    second = world.sweep(local(2026, 11, 30, 12, 0))  # Monday: 4 working days
    assert kinds_sent(second) == sorted(("decision_nudge", who) for who in (HOST1, HOST2, COORDINATOR))

    # The host decides; funding stays. Its deadline is Tuesday 1.12. (5 working days): on Wednesday
    # morning the visitor is asked what to do and the coordinators hear it is stuck.
    world.decide(visit_id, "host", HOST2)
    third = world.sweep(local(2026, 12, 2, 12, 0))
    assert kinds_sent(third) == sorted([("decision_deadline", VISITOR), ("decision_stuck", COORDINATOR)])
    choices = world.sent_to(VISITOR)[-1]
    assert "1.12." in text_of(choices) and "Rahoituksesta ei päätetty" in text_of(choices)
    assert set(buttons(choices)) == {ids.DEADLINE_WAIT, ids.VISIT_CANCEL}  # the day is agreed: no new dates
    check_message(choices)
    stuck = world.sent_to(COORDINATOR)[-1]
    assert "A decision is stuck" in text_of(stuck) and f"Visit {visit_id} " not in text_of(stuck)
    assert set(buttons(stuck)) == {ids.REMINDER_AGAIN, ids.REMINDER_TAKE_OVER}
    check_message(stuck)
    assert world.sweep(local(2026, 12, 9, 12, 0)).sent == []  # nothing more planned


def test_a_coordinator_whose_staff_make_the_visit_cannot_take_its_stuck_decisions_over(world: World) -> None:
    """The coordinator supervises the visitor: the stuck notices of the host's side and of the
    funding offer no take-over (a note says why), and a take-over pressed anyway is refused."""
    form = ProposalInput(
        topic_id=world.topic_id,
        host_library_id=world.host_id,
        learn="Omatoimiaika",
        dates=[date(2026, 12, 9)],
        length="day",
        travel_mode="car",
        km="120",
        supervisor_id=COORDINATOR,
    )
    visit_id = proposing.propose(
        world.sf, form, visitor_id=VISITOR, home_library_id=world.home_id, now=world.clock()
    ).card.id
    result = world.sweep(local(2026, 12, 2, 12, 0))  # 6 working days: nudges and stuck at once
    assert ("decision_stuck", COORDINATOR) in kinds_sent(result)
    stuck = [m for m in world.sent_to(COORDINATOR) if "is stuck" in text_of(m)]
    assert stuck and all(set(buttons(m)) == {ids.REMINDER_AGAIN} for m in stuck)
    assert all("your own visit or a visit by someone you supervise" in text_of(m) for m in stuck)
    with world.sf() as session:
        ids_ = [
            (r.id, r.params["party"])
            for r in session.scalars(
                select(Reminder).where(Reminder.kind == "decision_stuck", Reminder.recipient == COORDINATOR)
            )
        ]
    assert {party for _, party in ids_} >= {"host", "funding"}
    for reminder_id, party in ids_:
        if party not in ("host", "funding"):
            continue
        with world.sf() as session, pytest.raises(NotAllowed) as refused:
            reminder_buttons.take_over(session, reminder_id, actor=COORDINATOR, is_coordinator=True)
        assert refused.value.key == f"visits.{party}.conflict"
    card = visit_lists.card_of(world.sf, visit_id)
    assert card.decisions == () and card.host_state == card.funding_state == PartyState.PENDING


def test_nothing_after_the_visit_is_declined_or_cancelled(world: World) -> None:
    declined = world.propose(date(2026, 12, 9))
    world.decide(declined, "host", HOST1, approve=False)
    cancelled = world.propose(date(2026, 12, 10))
    state_machine.cancel(world.sf, cancelled, actor=VISITOR, is_coordinator=False, now=world.clock())
    assert world.pending(declined) == [] and world.pending(cancelled) == []
    assert world.sweep(local(2026, 12, 31, 12, 0)).sent == []


# --- confirmed: the day before, write-ups, travel invoice -----------------------------------------
def test_day_before_write_up_and_invoice_at_their_times(world: World) -> None:
    # Visit on Monday 7.12.2026 (own car): the day before is Friday 4.12 (Sunday is not a working day).
    visit_id = world.propose(date(2026, 12, 7))
    world.confirm(visit_id)
    world.api.calls.clear()
    assert world.sweep(local(2026, 12, 4, 8, 59)).sent == []
    before = world.sweep(local(2026, 12, 4, 9, 0))
    assert kinds_sent(before) == sorted(
        [("day_before", VISITOR), ("day_before", HOST1), ("day_before", HOST2)]
    )
    visitor_text = text_of(world.sent_to(VISITOR)[-1])
    assert "Vierailusi: " in visitor_text
    host_text = text_of(world.sent_to(HOST1)[-1])
    assert "kommer på besök" in host_text and "&lt;omatoimi&gt;" in host_text and "&amp;" in host_text
    assert world.sweep(local(2026, 12, 5, 12, 0)).sent == []  # Saturday
    assert world.sweep(local(2026, 12, 7, 12, 0)).sent == []  # the visit day itself

    # Write-up: Tuesday 8.12 (first working day after), then 15.12 and 22.12, then coordinators.
    assert world.sweep(local(2026, 12, 8, 8, 59)).sent == []
    nag = world.sweep(local(2026, 12, 8, 9, 0))  # it asks first whether the visit happened
    assert kinds_sent(nag) == [("writeup_nag", VISITOR)]
    message = world.sent_to(VISITOR)[-1]
    assert "Toteutuiko vierailusi" in text_of(message)
    assert set(buttons(message)) == {
        ids.HAPPENED_YES,
        ids.HAPPENED_MOVED,
        ids.HAPPENED_NO,
        ids.WRITEUP_OPEN,
        ids.REMINDER_SNOOZE,
    }
    assert buttons(message)[ids.WRITEUP_OPEN]["value"] == str(visit_id)
    check_message(message)

    # Travel invoice: two working days after the visit (Wednesday 9.12), then weekly.
    assert world.sweep(local(2026, 12, 9, 8, 59)).sent == []
    invoice = world.sweep(local(2026, 12, 9, 9, 0))
    assert kinds_sent(invoice) == [("travel_invoice", VISITOR)]
    said = text_of(world.sent_to(VISITOR)[-1])
    assert "matkalaskun" in said and re.search(r"arviolta \d+(,\d)? km", said), said  # Finnish numbers
    assert kinds_sent(world.sweep(local(2026, 12, 15, 9, 0))) == [("writeup_nag", VISITOR)]
    assert kinds_sent(world.sweep(local(2026, 12, 16, 9, 0))) == [("travel_invoice", VISITOR)]
    assert kinds_sent(world.sweep(local(2026, 12, 22, 9, 0))) == [("writeup_nag", VISITOR)]
    # Wednesday 23.12 the invoice again; 29.12 the coordinators hear the write-up is missing.
    assert kinds_sent(world.sweep(local(2026, 12, 23, 9, 0))) == [("travel_invoice", VISITOR)]
    assert kinds_sent(world.sweep(local(2026, 12, 29, 9, 0))) == [("writeup_overdue", COORDINATOR)]
    assert "still missing" in text_of(world.sent_to(COORDINATOR)[-1])


def test_write_up_done_and_invoice_received_stop_the_reminders(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit_id = world.propose(date(2026, 12, 7))
    world.confirm(visit_id)
    world.sweep(local(2026, 12, 4, 9, 0))
    monkeypatch.setattr("services.ideas.writeups.has_writeup", lambda session, vid: vid == visit_id)
    monkeypatch.setattr("services.money.travel_invoices.invoice_outstanding", lambda session, vid: False)
    world.api.calls.clear()
    for day in range(7, 32):
        result = world.sweep(local(2026, 12, day, 12, 0))
        assert result.sent == [], (day, kinds_sent(result))
    assert world.pending(visit_id) == []


def test_nothing_on_midsummer_eve_or_a_saturday(world: World) -> None:
    # Visit on Thursday 24.6.2027: the write-up nag waits over Midsummer Eve (Fri) and the weekend.
    world.clock.now = local(2027, 6, 1, 12, 0)
    visit_id = world.propose(date(2027, 6, 24), travel="public")
    world.confirm(visit_id)
    world.sweep(local(2027, 6, 23, 9, 0))  # the day before goes out on Wednesday
    world.api.calls.clear()
    assert world.sweep(local(2027, 6, 25, 10, 0)).sent == []  # Midsummer Eve
    assert world.sweep(local(2027, 6, 26, 10, 0)).sent == []  # Saturday
    assert kinds_sent(world.sweep(local(2027, 6, 28, 9, 0))) == [("writeup_nag", VISITOR)]
    # A visit on Monday 28.6.2027: its day-before reminder goes on Thursday 24.6, not on Midsummer Eve.
    world.clock.now = local(2027, 6, 1, 12, 0)
    other = world.propose(date(2027, 6, 28), travel="public")
    world.confirm(other)
    due = {r.kind: r.due_at for r in world.pending(other)}
    assert due["day_before"].astimezone(TZ) == datetime(2027, 6, 24, 9, 0, tzinfo=TZ)


def test_moving_a_visit_replans_and_cancel_cancels(world: World) -> None:
    visit_id = world.propose(date(2026, 12, 7))
    world.confirm(visit_id)
    assert {r.params["date"] for r in world.pending(visit_id)} == {"2026-12-07"}
    world.clock.now = local(2026, 11, 25, 12, 0)  # Wednesday
    state_machine.move(
        world.sf, visit_id, date(2026, 12, 14), actor=VISITOR, is_coordinator=False, now=world.clock()
    )
    pending = world.pending(visit_id)
    assert {r.kind for r in pending} == {"decision_nudge", "decision_stuck", "decision_deadline"}
    assert {r.params["round"] for r in pending} == {2}
    assert {r.recipient for r in pending if r.kind == "decision_nudge"} == {SUPERVISOR, HOST1, HOST2}
    # Round 2's nudges count from the move: Friday 27.11 at 12:00, not from the proposal.
    assert world.sweep(local(2026, 11, 26, 12, 0)).sent == []
    assert len(world.sweep(local(2026, 11, 27, 12, 0)).sent) == 3
    world.decide(visit_id, "supervisor", SUPERVISOR)
    world.decide(visit_id, "host", HOST1)
    assert visit_lists.card_of(world.sf, visit_id).status == VisitStatus.CONFIRMED
    assert {r.params.get("date") for r in world.pending(visit_id) if r.kind != "decision_stuck"} == {
        "2026-12-14"
    }
    world.api.calls.clear()
    assert world.sweep(local(2026, 12, 4, 9, 0)).sent == []  # the old day-before is gone
    assert len(world.sweep(local(2026, 12, 11, 9, 0)).sent) == 3  # Friday before Monday 14.12
    state_machine.cancel(
        world.sf, visit_id, actor=VISITOR, is_coordinator=False, now=local(2026, 12, 11, 10, 0)
    )
    assert world.pending(visit_id) == []
    assert world.sweep(local(2027, 1, 31, 12, 0)).sent == []


def test_slack_429_and_500_then_delivered_on_a_later_sweep(world: World) -> None:
    visit_id = world.propose(date(2026, 12, 7))
    world.confirm(visit_id)
    world.api.calls.clear()
    world.api.fail_next("chat.postMessage", Failure(status=429, retry_after=30))
    limited = world.sweep(local(2026, 12, 4, 9, 0))
    assert limited.sent == [] and len(limited.retried) == 1
    world.api.fail_next("chat.postMessage", Failure(status=500, error="internal_error"))
    failed = world.sweep(local(2026, 12, 4, 9, 1))
    assert len(failed.retried) == 1 and len(failed.sent) == 2
    assert world.sweep(local(2026, 12, 4, 9, 1, 30)).sent == []  # its backoff has not passed
    later = world.sweep(local(2026, 12, 4, 9, 10))
    assert len(later.sent) == 1
    assert world.sweep(local(2026, 12, 4, 9, 20)).sent == []
    sent = [*limited.sent, *failed.sent, *later.sent]
    assert sorted(r.recipient for r in sent) == sorted([VISITOR, HOST1, HOST2])
    assert len(world.api.of("chat.postMessage")) == 5  # two refused, three delivered


# --- buttons through the real app -----------------------------------------------------------------
def sweep_for_bot(bot: Bot, at: datetime) -> SweepResult:
    bot.clock.now = at
    client = WebClient(token="xoxb-test", base_url=bot.api.url)
    delivery = SlackReminderDelivery(
        client, bot.session_factory, default_language="fi", renderers=visit_renderers(bot.session_factory)
    )
    return reminders.sweep(
        bot.session_factory,
        delivery,
        now=at,
        tz=TZ,
        kinds=visit_reminders.kinds(),
        coordinators=[COORDINATOR],
    )


def ephemerals(bot: Bot) -> list[str]:
    return [text_of(c.body) for c in bot.api.of("response_url")]


def stuck_reminder(bot: Bot, visit_id: int, party: str) -> int:
    with bot.session_factory() as session:
        found = session.scalars(
            select(Reminder).where(Reminder.visit_id == visit_id, Reminder.kind == "decision_stuck")
        ).all()
    return next(r.id for r in found if r.params["party"] == party)


def test_stuck_buttons_remind_again_and_take_over_only_for_coordinators(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    settle(bot)
    sweep_for_bot(bot, local(2026, 12, 2, 12, 0))  # nudges and stuck, all at once (late sweep)
    host_stuck = stuck_reminder(bot, visit.id, "host")
    supervisor_stuck = stuck_reminder(bot, visit.id, "supervisor")
    posted = len(bot.api.of("chat.postMessage"))

    # Someone else pressing: "not yours", nothing planned, nothing posted.
    with bot.session_factory() as session:
        before = session.scalar(select(Reminder.id).order_by(Reminder.id.desc()).limit(1))
    bot.slack.action(ids.REMINDER_AGAIN, str(host_stuck), user=STRANGER)
    bot.slack.action(ids.REMINDER_TAKE_OVER, str(host_stuck), user=HOST1)
    settle(bot)
    with bot.session_factory() as session:
        assert session.scalar(select(Reminder.id).order_by(Reminder.id.desc()).limit(1)) == before
    assert len(bot.api.of("chat.postMessage")) == posted
    told = ephemerals(bot)
    assert any("This button is not yours" in text for text in told)  # the stranger (English Slack)
    assert any("inte till för dig" in text for text in told)  # HOST1 reads Swedish

    # The coordinator reminds the host contacts again: due now, sent by the next sweep.
    bot.slack.action(ids.REMINDER_AGAIN, str(host_stuck), user=COORDINATOR)
    settle(bot)
    again = sweep_for_bot(bot, local(2026, 12, 2, 12, 5))
    assert kinds_sent(again) == [("decision_nudge", HOST1), ("decision_nudge", HOST2)]
    assert "A reminder goes out now" in ephemerals(bot)[-1]
    bot.slack.action(ids.REMINDER_AGAIN, str(host_stuck), user=COORDINATOR)  # twice the same day
    settle(bot)
    assert "already reminded again today" in ephemerals(bot)[-1]
    assert sweep_for_bot(bot, local(2026, 12, 2, 12, 10)).sent == []

    # Take over a host decision: the coordinator gets the host's decision message with buttons.
    bot.slack.action(ids.REMINDER_TAKE_OVER, str(host_stuck), user=COORDINATOR)
    settle(bot)
    to_coordinator = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == COORDINATOR]
    assert any(ids.HOST_DECLINE in buttons(m) for m in to_coordinator)
    # A supervisor's decision is never taken over: the coordinator hands it to another supervisor.
    bot.slack.action(ids.REMINDER_TAKE_OVER, str(supervisor_stuck), user=COORDINATOR)
    opened = bot.api.wait_for("views.open")[-1].body["view"]
    opened = json.loads(opened) if isinstance(opened, str) else opened
    check_view(opened)
    assert opened["callback_id"] == ids.HANDOVER_VIEW and SUPERVISOR in text_of(opened)

    def hand_to(user: str) -> dict[str, Any]:
        values = {ids.HANDOVER_TO: {ids.HANDOVER_TO: {"type": "users_select", "selected_user": user}}}
        reply = bot.slack.submit(
            ids.HANDOVER_VIEW, values, user=COORDINATOR, private_metadata=opened["private_metadata"]
        )
        return reply.json() if reply.text else {}

    assert "yourself" in hand_to(COORDINATOR)["errors"][ids.HANDOVER_TO]  # never decided by themselves
    assert ids.HANDOVER_TO in hand_to(VISITOR)["errors"]  # the traveller never decides their own trip
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_id == SUPERVISOR  # nothing changed
    deputy = "U0DEPUTY"
    assert hand_to(deputy) == {"response_action": "clear"}
    settle(bot)
    with bot.session_factory() as session:
        handed = session.get(Visit, visit.id)
        assert handed.supervisor_id == deputy and handed.travellers[0].supervisor_id == deputy
    to_deputy = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == deputy]
    assert any(ids.SUPERVISOR_APPROVE in buttons(m) for m in to_deputy)  # the request, with its buttons
    old = [
        c.body.get("text", "") for c in bot.api.of("chat.postMessage") if c.body.get("channel") == SUPERVISOR
    ]
    assert any(deputy in text for text in old)  # the supervisor it waited for is told
    former = [c.body for c in bot.api.of("chat.update") if c.body.get("channel") == "D" + SUPERVISOR[1:]]
    assert former and ids.SUPERVISOR_APPROVE not in buttons(former[-1])  # their message loses its buttons
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=SUPERVISOR)  # no longer theirs
    settle(bot)
    bot.slack.action(ids.SUPERVISOR_APPROVE, f"{visit.id}:{visit.round}", user=deputy)
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.APPROVED
        decided = session.scalars(select(VisitDecision).where(VisitDecision.visit_id == visit.id)).all()
        assert [(d.outcome, d.decided_by) for d in decided if d.party == "supervisor"] == [
            ("handed_over", COORDINATOR),
            ("approved", deputy),
        ]


def test_write_up_nag_buttons_through_the_app(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    settle(bot)
    confirm_directly(bot, visit)
    sf = bot.session_factory
    # The visit is on Wednesday 2.12.2026: the write-up nag on Thursday 3.12 at 9:00.
    result = sweep_for_bot(bot, local(2026, 12, 3, 9, 0))
    nag = next(r for r in result.sent if r.kind == "writeup_nag")
    message = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR][-1]
    assert "Toteutuiko vierailusi" in text_of(message) and "lyhyt kuvaus" in text_of(message)
    bot.api.calls.clear()
    bot.slack.action(ids.REMINDER_SNOOZE, str(nag.id), user=STRANGER)
    settle(bot)
    assert "This button is not yours" in " ".join(ephemerals(bot))
    with sf() as session:
        second = session.scalars(
            select(Reminder)
            .where(Reminder.kind == "writeup_nag", Reminder.status == ReminderStatus.PENDING)
            .order_by(Reminder.next_attempt_at)
        ).first()
        assert second is not None
        unchanged = second.next_attempt_at
    bot.clock.now = local(2026, 12, 9, 10, 0)
    bot.slack.action(ids.REMINDER_SNOOZE, str(nag.id), user=VISITOR)
    settle(bot)
    assert "muistutan seuraavan kerran" in " ".join(ephemerals(bot))
    with sf() as session:
        moved = session.get(Reminder, second.id)
        assert moved is not None and moved.next_attempt_at > unchanged
        assert moved.next_attempt_at == local(2026, 12, 16, 10, 0)
    bot.slack.action(ids.WRITEUP_OPEN, str(visit.id), user=VISITOR)
    settle(bot)
    opened = bot.api.wait_for("views.open")[-1].body["view"]
    opened = json.loads(opened) if isinstance(opened, str) else opened
    assert opened["notify_on_close"] is True  # the write-up form, which keeps a draft


def test_a_write_up_nag_snoozed_to_a_chosen_day_through_the_app(bot: Bot) -> None:
    """ "Remind me on ...": the day picked on the nag; a stranger, a day gone or too far ahead
    changes nothing."""
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    settle(bot)
    confirm_directly(bot, visit)
    result = sweep_for_bot(bot, local(2026, 12, 3, 9, 0))
    nag = next(r for r in result.sent if r.kind == "writeup_nag")
    message = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR][-1]
    check_message(message)
    picker = next(
        e
        for block in message["blocks"]
        if block.get("block_id") == f"{ids.SNOOZE_BLOCK}{nag.id}"
        for e in block["elements"]
        if e["action_id"] == ids.REMINDER_SNOOZE_TO
    )
    assert picker["type"] == "datepicker"
    with bot.session_factory() as session:
        second = session.scalars(
            select(Reminder)
            .where(Reminder.kind == "writeup_nag", Reminder.status == ReminderStatus.PENDING)
            .order_by(Reminder.next_attempt_at)
        ).first()
        assert second is not None
        unchanged = second.next_attempt_at

    def pick(day: str, user: str = VISITOR) -> None:
        bot.slack.action(
            ids.REMINDER_SNOOZE_TO,
            block_id=f"{ids.SNOOZE_BLOCK}{nag.id}",
            selected_date=day,
            user=user,
            message=message,
        )
        settle(bot)

    bot.clock.now = local(2026, 12, 3, 10, 0)
    pick("2026-12-28", STRANGER)
    assert "This button is not yours" in ephemerals(bot)[-1]
    pick("2026-12-02")  # a day that has passed
    assert "8 viikon" in ephemerals(bot)[-1]
    pick("2027-03-01")  # more than 8 weeks ahead
    assert "8 viikon" in ephemerals(bot)[-1]
    pick("2026-13-99")  # not a day at all
    assert "8 viikon" in ephemerals(bot)[-1]
    bot.slack.action(ids.REMINDER_SNOOZE_TO, block_id="snooze_x", selected_date="2026-12-28", user=VISITOR)
    settle(bot)
    assert len(ephemerals(bot)) == 5  # a tampered block id: answered, nothing moved
    with bot.session_factory() as session:
        assert session.get(Reminder, second.id).next_attempt_at == unchanged
    pick("2026-12-28")
    with bot.session_factory() as session:
        assert session.get(Reminder, second.id).next_attempt_at == local(2026, 12, 28, 9, 0)
    update = bot.api.of("response_url")[-1].body
    assert update.get("replace_original") is True and "28.12." in text_of(update)
    assert ids.REMINDER_SNOOZE_TO not in json.dumps(update.get("blocks"))  # the picker is gone
    later = sweep_for_bot(bot, local(2026, 12, 10, 9, 0)).sent
    assert "writeup_nag" not in {r.kind for r in later}  # the week-later nag moved


def test_snooze_only_by_the_recipient(world: World) -> None:
    visit_id = world.propose(date(2026, 12, 7), travel="public")
    world.confirm(visit_id)
    world.sweep(local(2026, 12, 4, 9, 0))
    nag = world.sweep(local(2026, 12, 8, 9, 0)).sent[0]
    with world.sf.begin() as session:
        with pytest.raises(NotAllowed):
            reminder_buttons.snooze_writeup(session, nag.id, actor=STRANGER, now=local(2026, 12, 8, 10, 0))
    with world.sf.begin() as session:
        until = reminder_buttons.snooze_writeup(
            session, nag.id, actor=VISITOR, now=local(2026, 12, 10, 10, 0)
        )
    assert until.astimezone(TZ) == datetime(2026, 12, 17, 10, 0, tzinfo=TZ)
    assert world.sweep(local(2026, 12, 15, 9, 0)).sent == []  # the second nag moved
    assert kinds_sent(world.sweep(local(2026, 12, 17, 10, 0))) == [("writeup_nag", VISITOR)]
    # The third nag (22.12) is snoozed to 29.12: the coordinators hear a week after it, not on 29.12.
    third = world.sweep(local(2026, 12, 22, 9, 0)).sent[0]
    with world.sf.begin() as session:
        last = reminder_buttons.snooze_writeup(
            session, third.id, actor=VISITOR, now=local(2026, 12, 22, 9, 30)
        )
    assert last == local(2026, 12, 29, 9, 30)
    assert kinds_sent(world.sweep(local(2026, 12, 29, 9, 30))) == [("writeup_nag", VISITOR)]
    assert world.sweep(local(2027, 1, 4, 12, 0)).sent == []
    assert kinds_sent(world.sweep(local(2027, 1, 5, 9, 30))) == [("writeup_overdue", COORDINATOR)]


def test_visit_model_is_untouched_by_sweeps(world: World) -> None:
    visit_id = world.propose(date(2026, 12, 7))
    world.sweep(local(2026, 11, 26, 12, 0))
    with world.sf() as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None and visit.status == VisitStatus.PROPOSED


def test_moved_back_to_the_first_date_plans_the_reminders_again(world: World) -> None:
    visit_id = world.propose(date(2026, 12, 7), travel="public")
    world.confirm(visit_id)
    for day in (date(2026, 12, 14), date(2026, 12, 7)):
        state_machine.move(world.sf, visit_id, day, actor=VISITOR, is_coordinator=False, now=world.clock())
        world.decide(visit_id, "supervisor", SUPERVISOR)
        world.decide(visit_id, "host", HOST1)
    assert visit_lists.card_of(world.sf, visit_id).round == 3
    kinds = sorted((r.kind, r.params["round"]) for r in world.pending(visit_id))
    assert ("day_before", 3) in kinds and ("writeup_nag", 3) in kinds
    assert all(round_ == 3 for _, round_ in kinds)
    assert len(world.sweep(local(2026, 12, 4, 9, 0)).sent) == 3  # one day-before each, once
    assert world.sweep(local(2026, 12, 4, 9, 5)).sent == []


def test_the_largest_reminders_stay_within_block_kit_limits(world: World) -> None:
    longest = ("<@U0X> & <!channel> *bold* " * 100)[: proposing.MAX_TEXT]
    visit_id = world.propose(date(2026, 12, 7), learn=longest, note=longest, length="two_days")
    sent = world.sweep(local(2026, 12, 2, 12, 0)).sent  # every nudge and stuck message at once
    world.clock.now = local(2026, 11, 24, 12, 0)
    world.confirm(visit_id)
    for day in (4, 9, 10, 16, 23, 31):
        sent += world.sweep(local(2026, 12, day, 9, 0)).sent
    assert {r.kind for r in sent} == {
        "decision_nudge",
        "decision_stuck",
        "decision_deadline",
        "day_before",
        "writeup_nag",
        "writeup_overdue",
        "travel_invoice",
    }
    bodies = [c.body for c in world.api.of("chat.postMessage")]
    assert len(bodies) == len(sent)
    by_number = re.compile(rf"\b(visit|vierailu\w*|besök\w*) {visit_id}\b", re.IGNORECASE)
    for body in bodies:
        check_message(body)
        assert "<!channel>" not in text_of(body)  # user text is escaped
        assert not by_number.search(text_of(body)), "a visit named by its number"  # topic, host, date


def test_production_sweeper_uses_the_kinds_and_the_renderers(world: World, db_url: str) -> None:
    from bot.startup import reminder_sweeper
    from tests.conftest import make_settings

    visit_id = world.propose(date(2026, 12, 9))
    world.decide(visit_id, "supervisor", SUPERVISOR)
    with world.sf.begin() as session:  # a stale nudge left behind: the registry must stop it
        stale = session.scalars(
            select(Reminder).where(Reminder.kind == "decision_nudge", Reminder.recipient == SUPERVISOR)
        ).first()
        assert stale is not None and stale.status == ReminderStatus.CANCELLED
        stale.status = ReminderStatus.PENDING
    settings = make_settings(db_url, world.api.url)
    world.shown()
    run = reminder_sweeper(settings, world.sf, WebClient(token="xoxb-test", base_url=world.api.url))
    result = run(local(2026, 11, 26, 12, 0))
    assert SUPERVISOR not in {r.recipient for r in result.sent}
    assert SUPERVISOR in {r.recipient for r in result.cancelled}
    assert "Sopiiko vierailu" in text_of(world.sent_to(HOST2)[-1])  # rendered, not the generic line


def test_a_nudge_carries_the_decision_buttons_and_a_press_there_is_the_same_press(bot: Bot) -> None:
    setup = set_up_people(bot)
    visit = propose(bot, setup)
    settle(bot)
    sweep_for_bot(bot, local(2026, 11, 26, 12, 0))  # two working days later: the first nudges
    nudge = next(
        c.body
        for c in bot.api.of("chat.postMessage")
        if c.body.get("channel") == SUPERVISOR and "Muistutus" in text_of(c.body)
    )
    check_message(nudge)
    approve = buttons(nudge)[ids.SUPERVISOR_APPROVE]
    assert ids.SUPERVISOR_DECLINE in buttons(nudge)
    assert "aiemmassa viestissä" not in text_of(nudge)  # no more "the buttons are elsewhere"
    host_nudge = next(
        c.body
        for c in bot.api.of("chat.postMessage")
        if c.body.get("channel") == HOST1 and "Påminnelse" in text_of(c.body)
    )
    assert any(key.startswith(ids.HOST_ACCEPT) for key in buttons(host_nudge))

    reply = bot.slack.action(
        ids.SUPERVISOR_APPROVE,
        approve["value"],
        user=SUPERVISOR,
        block_id=f"visit_{visit.id}_supervisor_nudge",
    )
    assert reply.status == 200
    settle(bot)
    with bot.session_factory() as session:
        assert session.get(Visit, visit.id).supervisor_state == PartyState.APPROVED
    said = [c.body for c in bot.api.of("response_url")]
    assert any(body.get("replace_original") and "päätös on tehty" in body.get("text", "") for body in said)
    updated = [c.body for c in bot.api.of("chat.update") if c.body.get("channel") == "D" + SUPERVISOR[1:]]
    assert updated and ids.SUPERVISOR_APPROVE not in buttons(updated[-1])  # the visit's message follows
    # The same button on the visit's own message now says someone decided; nothing changes twice.
    bot.slack.action(ids.SUPERVISOR_APPROVE, approve["value"], user=SUPERVISOR)
    settle(bot)
    with bot.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(VisitDecision)) == 1


def _happened_ask(bot: Bot) -> dict[str, Any]:
    return next(
        c.body
        for c in bot.api.of("chat.postMessage")
        if c.body.get("channel") == VISITOR and ids.HAPPENED_NO in buttons(c.body)
    )


def test_did_not_happen_releases_the_budget_and_stops_the_nags(bot: Bot) -> None:
    from services.money import reports
    from tests.e2e.test_decide import confirm_visit

    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))  # 2.12., 120 km by car: 66,00 committed
    settle(bot)
    region = setup["home"].region_id
    before = reports.report(
        bot.session_factory, region, 2026, today=date(2026, 12, 3), tz=bot.deps.settings.tz
    )
    assert (before.committed, before.not_happened) == (Decimal("66.00"), 0)
    sent = sweep_for_bot(bot, local(2026, 12, 3, 9, 0))  # the first working day after the visit
    assert ("writeup_nag", VISITOR) in kinds_sent(sent)
    ask = _happened_ask(bot)
    check_message(ask)
    assert "Toteutuiko vierailusi" in text_of(ask)
    value = buttons(ask)[ids.HAPPENED_NO]["value"]
    bot.slack.action(ids.HAPPENED_NO, value, user=STRANGER, block_id=f"visit_{visit.id}_happened")
    settle(bot)
    assert only_visit(bot.session_factory).happened is None  # not theirs to answer
    bot.slack.action(ids.HAPPENED_NO, value, user=VISITOR, block_id=f"visit_{visit.id}_happened")
    settle(bot)
    after = only_visit(bot.session_factory)
    assert (after.status, after.happened) == (VisitStatus.CANCELLED, False)
    said = [c.body for c in bot.api.of("response_url")]
    assert any(b.get("replace_original") and "vastauksesi on tallennettu" in b.get("text", "") for b in said)
    released = reports.report(
        bot.session_factory, region, 2026, today=date(2026, 12, 3), tz=bot.deps.settings.tz
    )
    assert (released.committed, released.not_happened) == (Decimal("0.00"), 1)
    # Nothing more about a visit that did not happen: no write-up nags, no invoice reminders.
    later = sweep_for_bot(bot, local(2026, 12, 31, 12, 0))
    assert not [k for k in kinds_sent(later) if k[0] in ("writeup_nag", "travel_invoice")]


def test_it_happened_or_was_moved_and_unanswered_the_nag_asks_too(bot: Bot) -> None:
    from tests.e2e.test_decide import confirm_visit

    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))
    settle(bot)
    sweep_for_bot(bot, local(2026, 12, 3, 9, 0))
    ask = _happened_ask(bot)
    # Unanswered, the first write-up nag (a week on) asks it as well.
    nags = sweep_for_bot(bot, local(2026, 12, 10, 12, 0))
    assert ("writeup_nag", VISITOR) in kinds_sent(nags)
    nag = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR][-1]
    assert ids.HAPPENED_YES in buttons(nag) and ids.WRITEUP_OPEN in buttons(nag)
    # It was moved: the move form opens after the day, and a new day asks the parties again.
    bot.slack.action(ids.HAPPENED_MOVED, buttons(ask)[ids.HAPPENED_MOVED]["value"], user=VISITOR)
    opened = bot.api.wait_for("views.open")[-1].body["view"]
    opened = json.loads(opened) if isinstance(opened, str) else opened
    assert opened["callback_id"] == ids.MOVE_VIEW
    values = {
        f"{ids.PROPOSE_DATE}_1": {
            f"{ids.PROPOSE_DATE}_1": {"type": "datepicker", "selected_date": "2026-12-16"}
        }
    }
    reply = bot.slack.submit(ids.MOVE_VIEW, values, private_metadata=opened["private_metadata"])
    assert reply.json() == {"response_action": "clear"}
    moved = only_visit(bot.session_factory)
    assert moved.status == VisitStatus.PROPOSED and moved.happened is None
    assert visit.id == moved.id


def test_it_happened(bot: Bot) -> None:
    from tests.e2e.test_decide import confirm_visit

    setup = set_up_people(bot)
    visit = confirm_visit(bot, propose(bot, setup))
    settle(bot)
    sweep_for_bot(bot, local(2026, 12, 3, 9, 0))
    ask = _happened_ask(bot)
    bot.slack.action(
        ids.HAPPENED_YES,
        buttons(ask)[ids.HAPPENED_YES]["value"],
        user=VISITOR,
        block_id=f"visit_{visit.id}_happened",
    )
    settle(bot)
    assert only_visit(bot.session_factory).happened is True
    bot.slack.action(ids.HAPPENED_NO, buttons(ask)[ids.HAPPENED_NO]["value"], user=VISITOR)  # once only
    settle(bot)
    assert only_visit(bot.session_factory).status == VisitStatus.CONFIRMED
    nags = sweep_for_bot(bot, local(2026, 12, 10, 12, 0))
    assert ("writeup_nag", VISITOR) in kinds_sent(nags)
    nag = [c.body for c in bot.api.of("chat.postMessage") if c.body.get("channel") == VISITOR][-1]
    assert ids.HAPPENED_YES not in buttons(nag)

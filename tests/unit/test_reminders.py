"""The reminder engine: office hours, exactly once, retries, escalation, many sweepers at once."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.reminder_delivery import SlackReminderDelivery
from models import Reminder, ReminderStatus, create_engine_for, make_session_factory
from services.common import office_hours
from services.common.ports import DeliveryError
from services.outbox import reminders
from services.outbox.reminders import DueReminder, Kinds
from tests.fakes.slack_api import Failure

TZ = ZoneInfo("Europe/Helsinki")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(UTC)


class Recorder:
    def __init__(self, fail_with: list[DeliveryError] | None = None) -> None:
        self.sent: list[DueReminder] = []
        self.fail_with = list(fail_with or [])
        self.lock = threading.Lock()

    def deliver(self, reminder: DueReminder) -> None:
        with self.lock:
            if self.fail_with:
                raise self.fail_with.pop(0)
            self.sent.append(reminder)


def plan(session_factory, due: datetime, now: datetime, **kw) -> int:
    with session_factory.begin() as session:
        reminder = reminders.plan(
            session,
            kind=kw.pop("kind", "decision_nudge"),
            recipient=kw.pop("recipient", "U0HOST"),
            due_at=due,
            now=now,
            tz=TZ,
            visit_id=kw.pop("visit_id", 7),
            **kw,
        )
        return reminder.id


# --- office hours ------------------------------------------------------------------------
def test_office_hours_skip_weekends_evenings_and_finnish_holidays() -> None:
    tuesday_noon = local(2026, 11, 24, 12, 0)
    assert office_hours.next_office_time(tuesday_noon, TZ) == tuesday_noon
    assert office_hours.next_office_time(local(2026, 11, 24, 16, 30), TZ) == local(2026, 11, 25, 8, 0)
    assert office_hours.next_office_time(local(2026, 11, 24, 7, 59), TZ) == local(2026, 11, 24, 8, 0)
    assert office_hours.next_office_time(local(2026, 11, 28, 10, 0), TZ) == local(
        2026, 11, 30, 8, 0
    )  # Saturday
    # Midsummer Eve 2027 is Friday 25 June: nothing until Monday.
    assert office_hours.next_office_time(local(2027, 6, 24, 17, 0), TZ) == local(2027, 6, 28, 8, 0)
    # Christmas Eve and Christmas 2026 (Thu, Fri), then the weekend.
    assert office_hours.next_office_time(local(2026, 12, 23, 16, 0), TZ) == local(2026, 12, 28, 8, 0)
    assert not office_hours.is_working_day(date(2027, 12, 6))  # Independence Day


def test_daylight_saving_change_does_not_shift_the_hour() -> None:
    # Summer time ends on Sunday 25 October 2026: Friday's 8:00 is 05:00 UTC, Monday's 06:00 UTC.
    friday_evening = local(2026, 10, 23, 17, 0)
    monday = office_hours.next_office_time(friday_evening, TZ)
    assert monday.astimezone(TZ).hour == 8 and monday == datetime(2026, 10, 26, 6, 0, tzinfo=UTC)
    # Summer time starts on Sunday 28 March 2027.
    assert office_hours.next_office_time(local(2027, 3, 26, 17, 0), TZ).astimezone(TZ).hour == 8


def test_working_days_arithmetic() -> None:
    assert office_hours.add_working_days(date(2026, 11, 26), 2) == date(2026, 11, 30)  # Thu + 2 = Mon
    assert office_hours.next_working_day(date(2027, 6, 24)) == date(2027, 6, 28)


# --- planning and sending ------------------------------------------------------------------
def test_planning_is_idempotent_and_moves_into_office_hours(session_factory, clock) -> None:
    saturday = local(2026, 11, 28, 10, 0)
    first = plan(session_factory, saturday, clock())
    second = plan(session_factory, saturday, clock())
    assert first == second
    with session_factory() as session:
        reminder = session.get(Reminder, first)
        assert reminder is not None and reminder.due_at == local(2026, 11, 30, 8, 0)


def test_a_due_reminder_is_sent_once_and_not_before_its_time(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock())
    recorder = Recorder()
    early = reminders.sweep(session_factory, recorder, now=due - timedelta(minutes=1), tz=TZ)
    assert early.sent == [] and recorder.sent == []
    first = reminders.sweep(session_factory, recorder, now=due, tz=TZ)
    second = reminders.sweep(session_factory, recorder, now=due + timedelta(minutes=1), tz=TZ)
    assert [r.recipient for r in first.sent] == ["U0HOST"]
    assert second.sent == []
    assert len(recorder.sent) == 1
    with session_factory() as session:
        stored = session.scalars(select(Reminder)).one()
        assert stored.status == ReminderStatus.SENT and stored.sent_at == due


def test_nothing_goes_out_on_a_saturday_or_on_midsummer_eve(session_factory, clock) -> None:
    # Planned for a working day, but the sweep only runs on a holiday: it waits for Monday.
    with session_factory.begin() as session:
        session.add(
            Reminder(
                dedupe_key="raw",
                visit_id=1,
                kind="day_before",
                recipient="U0X",
                due_at=local(2027, 6, 24, 9, 0),
                next_attempt_at=local(2027, 6, 24, 9, 0),
                status=ReminderStatus.PENDING,
                attempts=0,
                params={},
                created_at=clock(),
            )
        )
    recorder = Recorder()
    midsummer_eve = reminders.sweep(session_factory, recorder, now=local(2027, 6, 25, 10, 0), tz=TZ)
    saturday = reminders.sweep(session_factory, recorder, now=local(2027, 6, 26, 10, 0), tz=TZ)
    assert recorder.sent == [] and len(midsummer_eve.postponed) == 1 and saturday.postponed == []
    monday = reminders.sweep(session_factory, recorder, now=local(2027, 6, 28, 8, 0), tz=TZ)
    assert len(monday.sent) == 1


def test_a_reminder_stops_the_moment_its_thing_is_done(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), kind="writeup_nag")
    done = {"writeup_nag": False}
    kinds = Kinds()
    kinds.register("writeup_nag", lambda session, reminder, now: not done["writeup_nag"])
    done["writeup_nag"] = True
    recorder = Recorder()
    result = reminders.sweep(session_factory, recorder, now=due, tz=TZ, kinds=kinds)
    assert recorder.sent == [] and len(result.cancelled) == 1
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(days=1), tz=TZ).cancelled == []


def test_cancelling_a_visit_cancels_its_reminders(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), visit_id=1, kind="a")
    plan(session_factory, due, clock(), visit_id=1, kind="b")
    plan(session_factory, due, clock(), visit_id=2, kind="a")
    with session_factory.begin() as session:
        assert reminders.cancel_for_visit(session, 1) == 2
    recorder = Recorder()
    reminders.sweep(session_factory, recorder, now=due, tz=TZ)
    assert [r.visit_id for r in recorder.sent] == [2]


def test_passing_failures_are_retried_with_backoff(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock())
    recorder = Recorder(
        [
            DeliveryError("ratelimited", permanent=False, retry_after=30),
            DeliveryError("http_500", permanent=False),
        ]
    )
    first = reminders.sweep(session_factory, recorder, now=due, tz=TZ)
    assert first.retried and recorder.sent == []
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(seconds=29), tz=TZ).retried == []
    second = reminders.sweep(session_factory, recorder, now=due + timedelta(seconds=30), tz=TZ)
    assert second.retried  # the 500
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(seconds=60), tz=TZ).sent == []
    third = reminders.sweep(session_factory, recorder, now=due + timedelta(minutes=3), tz=TZ)
    assert len(third.sent) == 1 and len(recorder.sent) == 1


def test_a_recipient_who_has_left_is_escalated_to_the_coordinators(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), recipient="U0GONE")
    recorder = Recorder([DeliveryError("user_not_found", permanent=True)])
    result = reminders.sweep(session_factory, recorder, now=due, tz=TZ, coordinators=["U0COORD", "U0COORD2"])
    assert [r.recipient for r, _ in result.failed] == ["U0GONE"]
    following = reminders.sweep(session_factory, recorder, now=due + timedelta(minutes=1), tz=TZ)
    assert sorted(r.recipient for r in following.sent) == ["U0COORD", "U0COORD2"]
    assert following.sent[0].kind == reminders.RECIPIENT_GONE
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(days=1), tz=TZ).sent == []


def test_a_crashed_sweeps_claims_expire_and_are_retried(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock())
    claimed = reminders._claim(session_factory, now=due, stamp=due, token="crashed", batch=10)  # then it died
    assert len(claimed) == 1
    recorder = Recorder()
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(minutes=1), tz=TZ).sent == []
    later = reminders.sweep(
        session_factory, recorder, now=due + reminders.CLAIM_TTL + timedelta(seconds=1), tz=TZ
    )
    assert len(later.sent) == 1


def test_slack_delivery_honours_429_and_500_then_delivers(session_factory, clock, slack_api) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(
        session_factory,
        due,
        clock(),
        recipient="U0HOST",
        kind=reminders.RECIPIENT_GONE,
        params={"recipient": "U0X"},
    )
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    delivery = SlackReminderDelivery(client, session_factory, default_language="fi")
    slack_api.fail_next("chat.postMessage", Failure(status=429, retry_after=7))
    slack_api.fail_next("chat.postMessage", Failure(status=500, error="internal_error"))
    first = reminders.sweep(session_factory, delivery, now=due, tz=TZ)
    assert first.retried[0][1] == "ratelimited"
    with session_factory() as session:
        assert session.scalars(select(Reminder)).one().next_attempt_at == due + timedelta(seconds=7)
    second = reminders.sweep(session_factory, delivery, now=due + timedelta(seconds=7), tz=TZ)
    assert second.retried
    # The second failure waits two minutes (1, 2, 4 … minutes without a Retry-After).
    assert reminders.sweep(session_factory, delivery, now=due + timedelta(minutes=2), tz=TZ).sent == []
    third = reminders.sweep(session_factory, delivery, now=due + timedelta(seconds=7, minutes=2), tz=TZ)
    assert len(third.sent) == 1
    posted = slack_api.of("chat.postMessage")
    assert len(posted) == 3 and posted[-1].body["channel"] == "U0HOST"
    assert "Muistutusta ei saatu perille" in posted[-1].body["text"]


def test_slack_delivery_to_a_deleted_user_escalates(session_factory, clock, slack_api) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), recipient="U0GONE")
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    delivery = SlackReminderDelivery(client, session_factory, default_language="fi")
    slack_api.fail_next("chat.postMessage", Failure(error="channel_not_found"))
    result = reminders.sweep(session_factory, delivery, now=due, tz=TZ, coordinators=["U0COORD"])
    assert result.failed and result.failed[0][1] == "channel_not_found"
    told = reminders.sweep(
        session_factory, delivery, now=due + timedelta(minutes=1), tz=TZ, coordinators=["U0COORD"]
    )
    assert [r.recipient for r in told.sent] == ["U0COORD"]


def test_a_refused_bot_token_pauses_reminders_without_using_up_attempts(
    session_factory, clock, slack_api
) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), recipient="U0A", kind="a")
    plan(session_factory, due, clock(), recipient="U0B", kind="b")
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    delivery = SlackReminderDelivery(client, session_factory, default_language="fi")
    slack_api.fail_next("chat.postMessage", Failure(error="account_inactive"))  # the bot's own account
    paused = reminders.sweep(session_factory, delivery, now=due, tz=TZ, coordinators=["U0COORD"])
    assert paused.outage == "account_inactive" and paused.failed == [] and len(paused.deferred) == 2
    with session_factory() as session:
        rows = session.scalars(select(Reminder)).all()
        assert {r.status for r in rows} == {ReminderStatus.PENDING} and {r.attempts for r in rows} == {0}
    resumed = reminders.sweep(session_factory, delivery, now=due + timedelta(minutes=1), tz=TZ)
    assert sorted(r.recipient for r in resumed.sent) == ["U0A", "U0B"]


def test_a_429_holds_back_the_rest_of_the_batch(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    for i in range(5):
        plan(session_factory, due, clock(), recipient=f"U{i}", kind=f"k{i}")
    recorder = Recorder([DeliveryError("ratelimited", permanent=False, retry_after=20)])
    first = reminders.sweep(session_factory, recorder, now=due, tz=TZ)
    assert len(first.retried) == 1 and len(first.deferred) == 4 and recorder.sent == []
    assert reminders.sweep(session_factory, recorder, now=due + timedelta(seconds=19), tz=TZ).sent == []
    later = reminders.sweep(session_factory, recorder, now=due + timedelta(seconds=20), tz=TZ)
    assert len(later.sent) == 5
    with session_factory() as session:
        assert sorted(r.attempts for r in session.scalars(select(Reminder))) == [0, 0, 0, 0, 1]


def test_undeliverable_coordinator_messages_are_not_escalated_again(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    plan(session_factory, due, clock(), recipient="U0GONE")
    gone = DeliveryError("channel_not_found", permanent=True)
    recorder = Recorder([gone, gone, gone])
    coordinators = ["U0C1", "U0C2"]
    for minute in range(20):
        reminders.sweep(
            session_factory, recorder, now=due + timedelta(minutes=minute), tz=TZ, coordinators=coordinators
        )
    with session_factory() as session:
        assert (
            session.scalar(select(func.count()).select_from(Reminder)) == 3
        )  # the first and two escalations


def test_a_slow_sweeper_hands_back_its_batch_before_another_can_take_it(session_factory, clock) -> None:
    """Deliveries are slow (two minutes each): the first sweeper stops before its claims could
    expire, and a second sweeper running meanwhile never sends what the first still holds."""
    start = local(2026, 11, 26, 9, 0)
    for i in range(4):
        plan(session_factory, start, clock(), recipient=f"U{i}", kind=f"k{i}")
    wall = [start]
    other = Recorder()

    class Slow:
        def __init__(self) -> None:
            self.sent: list[DueReminder] = []

        def deliver(self, reminder: DueReminder) -> None:
            wall[0] += timedelta(minutes=2)
            # Another replica sweeps while this delivery is under way.
            reminders.sweep(session_factory, other, now=wall[0], tz=TZ, clock=lambda: wall[0])
            self.sent.append(reminder)

    slow = Slow()
    first = reminders.sweep(session_factory, slow, now=start, tz=TZ, clock=lambda: wall[0])
    assert first.deferred  # it gave back what it could not send in time
    wall[0] += timedelta(seconds=1)
    reminders.sweep(session_factory, other, now=wall[0], tz=TZ, clock=lambda: wall[0])
    delivered = [r.id for r in slow.sent] + [r.id for r in other.sent]
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 4


def test_a_sweep_told_to_stop_hands_back_the_rest_at_once(session_factory, clock) -> None:
    """SIGTERM during a sweep (bot.startup.Running.close): the reminder being sent goes, the rest
    are released there and then, so that another replica sends them now, not after CLAIM_TTL."""
    start = local(2026, 11, 26, 9, 0)
    for i in range(4):
        plan(session_factory, start, clock(), recipient=f"U{i}", kind=f"k{i}")
    stopping = threading.Event()

    class StopsAfterOne(Recorder):
        def deliver(self, reminder: DueReminder) -> None:
            super().deliver(reminder)
            stopping.set()  # the signal arrives while this one is being sent

    first = StopsAfterOne()
    result = reminders.sweep(session_factory, first, now=start, tz=TZ, stopping=stopping.is_set)
    assert len(first.sent) == 1 and len(result.deferred) == 3
    with session_factory() as session:
        held = session.scalars(select(Reminder).where(Reminder.status == ReminderStatus.PENDING)).all()
    assert len(held) == 3 and all(r.claimed_at is None and r.claim_token is None for r in held)
    other = Recorder()
    reminders.sweep(session_factory, other, now=start + timedelta(seconds=1), tz=TZ)  # no wait
    assert sorted(r.id for r in first.sent + other.sent) == sorted({r.id for r in first.sent + other.sent})
    assert len(other.sent) == 3


# --- many sweepers -------------------------------------------------------------------------
def _plan_many(session_factory, count: int, due: datetime, now: datetime) -> None:
    with session_factory.begin() as session:
        session.add_all(
            Reminder(
                dedupe_key=f"bulk:{i}",
                visit_id=i,
                kind="bulk",
                recipient=f"U{i:06d}",
                due_at=due,
                next_attempt_at=due,
                status=ReminderStatus.PENDING,
                attempts=0,
                params={},
                created_at=now,
            )
            for i in range(count)
        )


def test_four_sweeping_threads_send_each_reminder_once(session_factory, clock) -> None:
    due = local(2026, 11, 26, 9, 0)
    _plan_many(session_factory, 400, due, clock())
    recorder = Recorder()
    barrier = threading.Barrier(4)

    def sweeper() -> None:
        barrier.wait()
        for _ in range(10):
            reminders.sweep(session_factory, recorder, now=due, tz=TZ, batch=50)

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ids = [r.id for r in recorder.sent]
    assert len(ids) == 400 and len(set(ids)) == 400


def _sweeper_process(url: str, out: str, start: datetime, barrier) -> None:  # pragma: no cover - in a child
    engine = create_engine_for(url)
    factory = make_session_factory(engine)

    class FileDelivery:
        def __init__(self) -> None:
            self.handle = open(out, "a", encoding="utf-8")

        def deliver(self, reminder: DueReminder) -> None:
            self.handle.write(f"{reminder.id}\n")
            self.handle.flush()

    delivery = FileDelivery()
    barrier.wait()
    while reminders.sweep(factory, delivery, now=start, tz=TZ, batch=50).sent:
        pass
    engine.dispose()


@pytest.mark.postgres
def test_four_sweeper_processes_on_postgresql_send_1000_reminders_exactly_once(
    session_factory, clock, db_url: str, tmp_path: Path
) -> None:
    due = local(2026, 11, 26, 9, 0)
    _plan_many(session_factory, 1000, due, clock())
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    outputs = [tmp_path / f"sweeper{i}.txt" for i in range(4)]
    processes = [
        context.Process(target=_sweeper_process, args=(db_url, str(out), due, barrier)) for out in outputs
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
        assert process.exitcode == 0
    sent = [line for out in outputs if out.exists() for line in out.read_text().split()]
    assert len(sent) == 1000 and len(set(sent)) == 1000
    assert sum(1 for out in outputs if out.exists() and out.read_text()) >= 2  # the work was shared
    with session_factory() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.SENT)
            )
            == 1000
        )


def test_a_taken_over_reminder_is_looked_up_in_the_dm_and_sent_if_the_look_up_fails(
    session_factory, slack_api
) -> None:
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    delivery = SlackReminderDelivery(client, session_factory, default_language="fi")
    due = local(2026, 11, 26, 9, 0)
    fresh = DueReminder(7, "crash_test", "U0HOST", None, {}, due)
    delivery.deliver(fresh)  # a first delivery reads no history
    assert [c.method for c in slack_api.calls] == ["chat.postMessage"]
    taken_over = DueReminder(7, "crash_test", "U0HOST", None, {}, due, reclaimed_from=datetime.now(UTC))
    delivery.deliver(taken_over)  # it is in the DM already: not sent again
    assert len(slack_api.of("chat.postMessage")) == 1
    assert slack_api.of("conversations.history")[0].body["channel"] == "D0HOST"
    other = DueReminder(8, "crash_test", "U0HOST", None, {}, due, reclaimed_from=datetime.now(UTC))
    delivery.deliver(other)  # another reminder's message does not count
    assert len(slack_api.of("chat.postMessage")) == 2
    slack_api.fail_next("conversations.history", Failure(error="missing_scope"))
    third = DueReminder(7, "crash_test", "U0HOST", None, {}, due, reclaimed_from=datetime.now(UTC))
    delivery.deliver(third)  # cannot look: twice is better than never
    assert len(slack_api.of("chat.postMessage")) == 3

"""Crash mid-sweep: `python -m bot sweep` is killed with SIGKILL while Slack has a reminder it
has not yet answered for (the hardest moment: Slack has the message, the bot has not recorded
it), then started again after the claims have expired. Every due reminder reaches its person
exactly once, and the table ends consistent: all sent, no claim left behind.

Runs on the SQLite file the suite uses, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.reminder_delivery import METADATA_EVENT
from models import Reminder, ReminderStatus
from services.outbox import reminders
from tests.conftest import HELSINKI_NOON
from tests.fakes.slack_api import FakeSlackApi

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Europe/Helsinki")
DUE = 24
RECIPIENTS = ["U0READER1", "U0READER2", "U0READER3"]
CLAIM_SECONDS = 2
HANG = 5.0  # how long Slack "takes" to answer the message the sweep is killed on


def plan_due(session_factory: sessionmaker[Session]) -> list[int]:
    now = HELSINKI_NOON
    with session_factory.begin() as session:
        planned = [
            reminders.add(
                session,
                key=f"crash:{n}",
                kind="crash_test",  # an unknown kind: always still due, rendered generically
                recipient=RECIPIENTS[n % len(RECIPIENTS)],
                due_at=now - timedelta(minutes=n + 1),
                now=now,
                tz=TZ,
            )
            for n in range(DUE)
        ]
        session.flush()
        return [r.id for r in planned]


def start_sweep(db_url: str, api: FakeSlackApi, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN="xoxb-sweep-token",
        SLACK_API_URL=api.url,
        DATABASE_URL=db_url,
        SCHEDULER_ENABLED="false",
        COORDINATOR_USER_IDS="U0COORD",
        REMINDER_CLAIM_SECONDS=str(CLAIM_SECONDS),
        LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "sweep", "--now", "2026-11-24T12:00"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def posted_reminder_ids(api: FakeSlackApi) -> Counter[int]:
    found: Counter[int] = Counter()
    for call in api.of("chat.postMessage"):
        metadata = call.body.get("metadata") or {}
        assert metadata.get("event_type") == METADATA_EVENT
        found[int(metadata["event_payload"]["reminder_id"])] += 1
    return found


def rows(session_factory: sessionmaker[Session]) -> list[Reminder]:
    with session_factory() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.id)))


@pytest.mark.parametrize(
    "kill_at",
    [(1,), (9,), (DUE,), (4, 15)],
    ids=["first-message", "ninth-message", "last-message", "killed-twice"],
)
def test_a_sweep_killed_while_slack_has_a_message_sends_every_reminder_once(
    db_url: str,
    session_factory: sessionmaker[Session],
    slack_api: FakeSlackApi,
    tmp_path: Path,
    kill_at: tuple[int, ...],
) -> None:
    planned = plan_due(session_factory)
    for count in kill_at:
        # Slack answers at once until the message the sweep is killed on, which it "takes" but
        # does not answer in time: the sweep is killed while that chat.postMessage is in flight.
        slack_api.answer_delay.clear()
        if len(slack_api.of("chat.postMessage")) >= count - 1:
            slack_api.answer_delay["chat.postMessage"] = HANG
        process = start_sweep(db_url, slack_api, tmp_path)
        try:
            if count > 1:
                slack_api.wait_for("chat.postMessage", count=count - 1, timeout=60)
                slack_api.answer_delay["chat.postMessage"] = HANG
            slack_api.wait_for("chat.postMessage", count=count, timeout=60)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        states = [r.status for r in rows(session_factory)]
        assert states.count(ReminderStatus.SENT) < count  # the one in flight was not recorded
        time.sleep(CLAIM_SECONDS + 0.5)  # the dead sweep's claims expire

    slack_api.answer_delay.clear()
    last = start_sweep(db_url, slack_api, tmp_path)
    output, _ = last.communicate(timeout=120)
    assert last.returncode == 0, output

    assert posted_reminder_ids(slack_api) == Counter({rid: 1 for rid in planned})
    for row in rows(session_factory):
        assert (row.status, row.claim_token, row.claimed_at, row.attempts, row.last_error) == (
            ReminderStatus.SENT,
            None,
            None,
            0,
            None,
        ), row.id
        assert row.sent_at is not None
    # the DM history was read only for reminders whose claim had expired, not for every one
    assert 0 < len(slack_api.of("conversations.history")) <= DUE


def test_one_sweep_from_the_command_line_delivers_all_that_is_due_when_slack_is_slow(
    db_url: str,
    session_factory: sessionmaker[Session],
    slack_api: FakeSlackApi,
    tmp_path: Path,
) -> None:
    """A pass hands back what it cannot reach within half a claim's lifetime (1 s here, with
    Slack taking 0.15 s a message); `python -m bot sweep` goes on until everything went."""
    planned = plan_due(session_factory)
    slack_api.answer_delay["chat.postMessage"] = 0.15
    output, _ = start_sweep(db_url, slack_api, tmp_path).communicate(timeout=120)
    assert posted_reminder_ids(slack_api) == Counter({rid: 1 for rid in planned}), output
    assert {row.status for row in rows(session_factory)} == {ReminderStatus.SENT}
    assert f"sent {DUE}," in output and "left for the next sweep 0" in output

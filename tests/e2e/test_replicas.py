"""Two replicas of the bot that share nothing but PostgreSQL: two `python -m bot` processes
started on their own (not forked from one parent), each on its own port, on one database. Slack
may send a retry to either; a change made through one is obeyed by the other within seconds;
their sweeps, run at once, send each reminder once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import ids
from models import Region, Reminder
from services.common.workdays import HELSINKI, is_working_day
from services.outbox import reminders
from tests.e2e.test_process import ROOT, SECRET, bot_env, free_port, start_bot, wait_until_healthy
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_requests import SlackClient, select_value, user_value

pytestmark = pytest.mark.postgres

COORDINATOR = "U0COORD"
NEWCOMER = "U0NEWCOORD"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@pytest.fixture
def replicas(
    tmp_path: Path, slack_api: FakeSlackApi, db_url: str, session_factory
) -> Iterator[tuple[SlackClient, SlackClient]]:
    """Two replicas on the (wiped and seeded) test database, one started after the other."""
    started: list[subprocess.Popen[str]] = []
    clients = []
    for name in ("a", "b"):
        port = free_port()
        (tmp_path / name).mkdir()
        env = bot_env(
            tmp_path, slack_api, PORT=str(port), DATABASE_URL=db_url, COORDINATOR_USER_IDS=COORDINATOR
        )
        process = start_bot(tmp_path / name, env)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, process)
        clients.append(SlackClient(f"{base}/slack/events", SECRET, slack_api.response_url()))
    try:
        yield clients[0], clients[1]
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


def test_a_retry_that_reaches_the_other_replica_is_not_acted_on_twice(replicas, slack_api) -> None:
    one, other = replicas
    first = one.command("asetukset", user="U0SOMEONE")  # opens the settings form
    assert first.status == 200
    slack_api.wait_for("views.open")
    assert one.last is not None
    again = other.post(*one.last, headers=RETRY)  # Slack's retry, to the other replica
    assert (again.status, again.text) == (first.status, first.text)
    time.sleep(0.5)  # anything the retry had started would have reached Slack by now
    assert len(slack_api.of("views.open")) == 1  # the form opened once


def test_a_coordinator_added_through_one_replica_is_obeyed_by_the_other(
    replicas, slack_api, session_factory
) -> None:
    one, other = replicas
    refused = other.command("raportti", user=NEWCOMER)
    assert "Only coordinators can do this." in refused.said  # cached as no coordinator there
    with session_factory() as session:
        region = session.scalars(select(Region.id).order_by(Region.id)).first()
    values = {
        ids.DESK_USER: {ids.DESK_USER: user_value(NEWCOMER)},
        ids.DESK_REGION: {ids.DESK_REGION: select_value(str(region))},
    }
    added = one.submit(ids.COORDINATOR_VIEW, values, user=COORDINATOR)
    assert added.json()["response_action"] == "update", added.text
    changed = time.monotonic()
    while "Only coordinators can do this." in other.command("raportti", user=NEWCOMER).said:
        assert time.monotonic() - changed < 5, "the other replica still refuses the new coordinator"
        time.sleep(0.2)


def test_two_replicas_sweeping_at_once_send_a_nag_once(tmp_path, slack_api, db_url, session_factory) -> None:
    day = datetime.now(UTC).astimezone(HELSINKI).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    at = datetime.combine(day, clock_time(9, 0), tzinfo=HELSINKI)
    with session_factory.begin() as session:
        reminders.add(session, key="nag", kind="other", recipient="U0HOST", due_at=at, now=at, tz=HELSINKI)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "COORDINATOR"))}
    env.update(
        PYTHONPATH=str(ROOT), DATABASE_URL=db_url, SLACK_BOT_TOKEN="xoxb-sweep", SLACK_API_URL=slack_api.url
    )
    slack_api.answer_delay["chat.postMessage"] = 0.3  # both sweeps are at work at the same moment
    sweeps = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "sweep", "--now", at.isoformat()],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sweep.communicate(timeout=60) for sweep in sweeps]
    assert [sweep.returncode for sweep in sweeps] == [0, 0], outputs
    assert len(slack_api.of("chat.postMessage")) == 1, outputs
    with session_factory() as session:
        assert session.scalars(select(Reminder.status).where(Reminder.dedupe_key == "nag")).one() == "sent"

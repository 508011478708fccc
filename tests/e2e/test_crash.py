"""SIGKILL of `python -m bot` in the middle of a flow: right after a proposal or the confirming
decision is committed, while the Slack calls that show it hang. After a restart the data is
whole, and once the dead request's claim expires the sweep delivers its messages, once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from bot.config import Settings
from bot.startup import reminder_sweeper
from models import (
    AuditEntry,
    Library,
    LibraryContact,
    Reminder,
    ReminderStatus,
    Topic,
    Visit,
    VisitStatus,
    create_engine_for,
    make_session_factory,
)
from services.outbox import visit_outbox
from services.outbox.reminders import CLAIM_TTL
from services.people import staff
from tests.dates import visit_dates
from tests.e2e.test_process import SECRET, bot_env, free_port, wait_until_healthy
from tests.e2e.visit_helpers import HOME_KEY, HOST1, HOST2, HOST_KEY, SUPERVISOR, VISITOR, proposal_values
from tests.fakes.slack_api import Failure, FakeSlackApi
from tests.fakes.slack_requests import SlackClient

COORDINATOR = "U0COORD"
PEOPLE = (VISITOR, SUPERVISOR, HOST1, HOST2, COORDINATOR)


class Process:
    """`python -m bot` on an SQLite file, started (and killed) as a test needs."""

    def __init__(self, tmp_path: Path, api: FakeSlackApi) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.env = bot_env(tmp_path, api, PORT=str(self.port), COORDINATOR_USER_IDS=COORDINATOR)
        self.slack = SlackClient(f"http://127.0.0.1:{self.port}/slack/events", SECRET, api.response_url())
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.tmp_path,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_healthy(f"http://127.0.0.1:{self.port}", self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]


@pytest.fixture
def bot_process(tmp_path: Path, slack_api: FakeSlackApi) -> Iterator[Process]:
    process = Process(tmp_path, slack_api)
    process.start()
    yield process
    slack_api.heal()
    process.stop()


def set_up(sf: sessionmaker[Session], api: FakeSlackApi) -> dict[str, int]:
    now = datetime.now(UTC)
    api.locales.update({VISITOR: "fi-FI", SUPERVISOR: "fi-FI", HOST1: "sv-FI", HOST2: "fi-FI"})
    with sf.begin() as session:
        home = session.scalars(select(Library).where(Library.key == HOME_KEY)).one()
        host = session.scalars(select(Library).where(Library.key == HOST_KEY)).one()
        topic = session.scalars(select(Topic).order_by(Topic.id).limit(1)).one()
        session.add_all(
            [
                LibraryContact(library_id=host.id, slack_user_id=HOST1, added_at=now),
                LibraryContact(library_id=host.id, slack_user_id=HOST2, added_at=now),
            ]
        )
        ids_ = {"home": home.id, "host": host.id, "topic": topic.id}
    staff.update_settings(
        sf, VISITOR, home_library_id=ids_["home"], language=None, now=now, default_language="fi"
    )
    return ids_


def outbox(sf: sessionmaker[Session]) -> list[Reminder]:
    with sf() as session:
        return list(
            session.scalars(select(Reminder).where(Reminder.kind == visit_outbox.SYNC).order_by(Reminder.id))
        )


def wait_settled(sf: sessionmaker[Session], rows: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        found = outbox(sf)
        if len(found) == rows and all(r.claim_token is None for r in found):
            return
        assert time.monotonic() < deadline, [(r.status, r.claim_token) for r in found]
        time.sleep(0.05)


def the_visit(sf: sessionmaker[Session]) -> Visit:
    with sf() as session:
        visit = session.scalars(select(Visit)).one()
        _ = visit.dates
        return visit


def press(process: Process, action_id: str, value: str, user: str) -> None:
    assert process.slack.action(action_id, value, user=user).status == 200


@pytest.mark.parametrize(
    ("crash_in", "hangs_on"),
    [("propose", "chat.postMessage"), ("funding", "files.getUploadURLExternal")],
)
def test_sigkill_while_a_committed_change_is_being_shown_then_restart_delivers_it_once(
    bot_process: Process, slack_api: FakeSlackApi, crash_in: str, hangs_on: str
) -> None:
    engine = create_engine_for(bot_process.database_url)
    sf = make_session_factory(engine)
    try:
        setup = set_up(sf, slack_api)
        # The bot in the subprocess runs on the real clock: its dates come from that clock.
        values = proposal_values(setup["topic"], setup["host"], dates=(*visit_dates(datetime.now(UTC)), None))
        if crash_in == "propose":
            slack_api.fail_while(Failure(hang=True), hangs_on)
        reply = bot_process.slack.submit(ids.PROPOSE_VIEW, values)
        assert reply.status == 200 and reply.json()["response_action"] == "update"
        if crash_in == "funding":
            wait_settled(sf, 1)
            visit = the_visit(sf)
            value = f"{visit.id}:{visit.round}"
            press(bot_process, ids.SUPERVISOR_APPROVE, value, SUPERVISOR)
            wait_settled(sf, 2)
            first = min(d.id for d in visit.dates if d.active)
            press(bot_process, f"{ids.HOST_ACCEPT}_1", f"{value}:{first}", HOST1)
            wait_settled(sf, 3)
            slack_api.fail_while(Failure(hang=True), hangs_on)
            press(bot_process, ids.FUNDING_APPROVE, value, COORDINATOR)
        slack_api.wait_for(hangs_on, count=1 + len(slack_api.delivered(hangs_on)), timeout=20)
        bot_process.kill()  # the change is committed; the calls that show it are in flight
        slack_api.heal()

        visit = the_visit(sf)
        expected = VisitStatus.PROPOSED if crash_in == "propose" else VisitStatus.CONFIRMED
        assert visit.status == expected
        with sf() as session:
            audit = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "visit")))
        assert audit == ["visit.propose"] + ["visit.approved"] * (3 if crash_in == "funding" else 0)
        dead = outbox(sf)[-1]
        assert dead.status == ReminderStatus.PENDING and dead.claim_token is not None  # orphaned

        bot_process.start()  # the restarted bot serves again, with the same data
        assert bot_process.slack.command("apua", user=VISITOR).status == 200
        assert the_visit(sf).status == expected

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            slack_bot_token="xoxb-process-token",
            slack_api_url=slack_api.url,
            database_url=bot_process.database_url,
            coordinator_user_ids=COORDINATOR,
        )
        client = WebClient(token="xoxb-process-token", base_url=slack_api.url)
        now = datetime.now(UTC)
        early = reminder_sweeper(settings, sf, client, clock=lambda: now)(now)
        assert early.sent == []  # the dead request's claim has not expired yet
        later = now + CLAIM_TTL + timedelta(minutes=1)
        result = reminder_sweeper(settings, sf, client, clock=lambda: later)(later)
        assert [r.kind for r in result.sent] == [visit_outbox.SYNC], result.summary()
        assert {r.status for r in outbox(sf)} == {ReminderStatus.SENT}

        posted = Counter(
            c.body["channel"]
            for c in slack_api.delivered("chat.postMessage")
            if str(c.body.get("channel", "")).startswith("U") and c.body.get("blocks")
        )
        assert posted == Counter(PEOPLE)  # every visit message, once
        invites = Counter(c.body["channel_id"] for c in slack_api.delivered("files.completeUploadExternal"))
        if crash_in == "funding":
            assert invites == Counter("D" + p[1:] for p in PEOPLE)  # every invite, once
        else:
            assert invites == Counter()
        again = later + timedelta(hours=1)
        assert reminder_sweeper(settings, sf, client, clock=lambda: again)(again).sent == []
    finally:
        engine.dispose()

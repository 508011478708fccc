"""Replays: the same request delivered twice changes nothing the second time.

Every end-to-end flow of the suite is run again with a Slack client that delivers each request
more than once (typeahead excepted: it only reads). In the sequential mode copies are sent once the first
delivery's work has settled: as Slack's first and second retry (X-Slack-Retry-Num 1 and 2, with
X-Slack-Retry-Reason) and once without retry headers, as a proxy would repeat it; the database
(every row of every table) and the Web API calls (DMs, modals, message updates, response_url
posts) must be exactly as they were, and the copy must get the same answer. In the concurrent
mode both copies are in flight at once; the flow's own assertions (one visit, one decision, so
many DMs) then check that the pair did what one delivery does.
"""

from __future__ import annotations

import importlib
import inspect
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from bot.forms import parse_proposal
from models import Base, HostOffer, Visit
from services.common import submissions
from services.visits import proposing
from tests.conftest import Bot
from tests.e2e.test_offer import suggest_topic
from tests.e2e.visit_helpers import count, proposal_values, set_up_people, settle
from tests.fakes.slack_requests import Reply, SlackClient

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

FLOW_MODULES = [
    "test_commands",
    "test_decide",
    "test_desk",
    "test_find",
    "test_mine",
    "test_offer",
    "test_propose",
    "test_regions",
    "test_reminders_flow",
    "test_settings",
    "test_topics",
    "test_writeups",
]

# Flows that count the SQL queries of a request, which the snapshots here would inflate.
COUNTS_QUERIES = {"test_home_with_200_visits_stays_inside_limits_and_pages"}


def snapshot(session_factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order (but the replays' own store)."""
    with session_factory() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
            if table.name != "deliveries"
        }


class ListenerWork:
    """Tracks the work the app hands to its listener threads (listeners after the ack, lazy
    listeners), so that a replay is sent only once the first delivery has done everything."""

    def __init__(self, app: App) -> None:
        executor = app.listener_pool  # a test seam
        self.pending: set[Future[Any]] = set()
        self.lock = threading.Lock()
        submit = executor.submit

        def tracked(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            future = submit(fn, *args, **kwargs)
            with self.lock:
                self.pending.add(future)
            return future

        executor.submit = tracked  # type: ignore[method-assign]

    def wait(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self.pending = {f for f in self.pending if not f.done()}
                if not self.pending:
                    return
                waiting = list(self.pending)
            wait_for(waiting, timeout=max(0.0, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise AssertionError("the listeners did not finish")


class ReplayingClient(SlackClient):
    """Delivers every request twice and checks that the second delivery changed nothing."""

    def __init__(self, bot: Bot, mode: str) -> None:
        super().__init__(bot.slack.url, bot.slack.secret, bot.slack.response_url)
        self.counter = bot.slack.counter
        self.bot = bot
        self.mode = mode
        self.replayed: dict[str, int] = {}
        assert bot.app is not None
        self.work = ListenerWork(bot.app)

    def post(self, body: str, content_type: str, **kwargs: Any) -> Reply:
        kind = delivery_kind(body)
        if kind is None or kwargs.get("signature") or kwargs.get("timestamp"):
            return super().post(body, content_type, **kwargs)
        self.replayed[kind] = self.replayed.get(kind, 0) + 1
        if self.mode == "concurrent":
            return self.concurrently(body, content_type, **kwargs)
        first = super().post(body, content_type, **kwargs)
        self.work.wait()
        before, calls = snapshot(self.bot.session_factory), len(self.bot.api.calls)
        for headers in (RETRY, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}, {}):
            again = super().post(body, content_type, headers={**(kwargs.get("headers") or {}), **headers})
            self.work.wait()
            assert (again.status, again.text) == (first.status, first.text), kind
            new_calls = [c.method for c in self.bot.api.calls[calls:]]
            assert new_calls == [], f"the replayed {kind} called the Web API again: {new_calls}"
            assert snapshot(self.bot.session_factory) == before, f"the replayed {kind} changed the database"
        return first

    def concurrently(self, body: str, content_type: str, **kwargs: Any) -> Reply:
        replies: list[Reply] = []
        copy_kwargs = dict(kwargs, headers={**(kwargs.get("headers") or {}), **RETRY})

        def deliver() -> None:
            replies.append(SlackClient.post(self, body, content_type, **copy_kwargs))

        second = threading.Thread(target=deliver)
        second.start()
        first = super().post(body, content_type, **kwargs)
        second.join(timeout=20)
        assert replies and (replies[0].status, replies[0].text) == (first.status, first.text)
        return first


def delivery_kind(body: str) -> str | None:
    """What a form body carries; None for typeahead (read-only, never replayed)."""
    if body.startswith("{"):
        return "event"
    fields = parse_qs(body)
    if "payload" not in fields:
        return "command" if "command" in fields else None
    payload = json.loads(fields["payload"][0])
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "block_suggestion":
        return None
    return str(kind)


def flows() -> list[Any]:
    """Every end-to-end test that needs only the bot, each case of a parametrized one too."""
    found = []
    for name in FLOW_MODULES:
        module = importlib.import_module(f"tests.e2e.{name}")
        for attr, fn in sorted(vars(module).items()):
            if not attr.startswith("test_") or not inspect.isfunction(fn) or attr in COUNTS_QUERIES:
                continue
            params = list(inspect.signature(fn).parameters)
            marks = getattr(fn, "pytestmark", [])
            if not marks and params == ["bot"]:
                found.append(pytest.param(fn, id=f"{name}.{attr}"))
            elif len(marks) == 1 and marks[0].name == "parametrize" and params[0] == "bot":
                names, cases = marks[0].args[0], marks[0].args[1]
                names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
                if params[1:] != names:
                    continue
                for index, case in enumerate(cases):
                    if hasattr(case, "values"):  # pytest.param(...)
                        values = tuple(case.values)
                    else:
                        values = tuple(case) if len(names) > 1 else (case,)
                    found.append(
                        pytest.param(partial(call_with, fn, names, values), id=f"{name}.{attr}[{index}]")
                    )
    return found


def call_with(fn: Callable[..., None], names: list[str], values: tuple[Any, ...], bot: Bot) -> None:
    fn(bot, **dict(zip(names, values, strict=True)))


@pytest.mark.parametrize("mode", ["sequential", "concurrent"])
@pytest.mark.parametrize("flow", flows())
def test_every_request_of_the_flow_delivered_twice(bot: Bot, flow: Callable[[Bot], None], mode: str) -> None:
    client = ReplayingClient(bot, mode)
    bot.slack = client
    try:
        flow(bot)
    finally:
        client.work.wait()  # no listener of this bot may still call the (shared) fake afterwards
    if not client.replayed:
        pytest.skip("the flow only reads (typeahead)")


# --- after a restart the cache is empty: what a form creates is still created once -----------
def test_a_replayed_proposal_after_a_restart_makes_no_second_visit(bot: Bot) -> None:
    setup = set_up_people(bot)
    first = bot.slack.submit(ids.PROPOSE_VIEW, proposal_values(setup["topic"].id, setup["host"].id))
    assert first.json()["response_action"] == "update"
    bot.api.wait_for("chat.postMessage", count=5)
    settle(bot)
    before, calls = snapshot(bot.session_factory), len(bot.api.calls)
    for headers in (RETRY, {}):
        bot.deps.replays.clear()  # as if the replays were lost (a restart of a one-process SQLite bot)
        assert bot.slack.last is not None
        again = bot.slack.post(*bot.slack.last, headers=headers)
        settle(bot)
        assert (again.status, again.text) == (200, "")  # the modal closes; it said "sent" already
        assert count(bot.session_factory, Visit) == 1
        # nobody is asked twice (the supervisor is looked up again: who they are is only read)
        assert [c.method for c in bot.api.calls[calls:] if c.method != "users.info"] == []
        assert snapshot(bot.session_factory) == before


def test_a_new_proposal_from_a_new_modal_is_still_a_new_visit(bot: Bot) -> None:
    setup = set_up_people(bot)
    values = proposal_values(setup["topic"].id, setup["host"].id)
    bot.slack.submit(ids.PROPOSE_VIEW, values)
    bot.api.wait_for("chat.postMessage", count=5)
    bot.deps.replays.clear()
    again = bot.slack.submit(ids.PROPOSE_VIEW, values)  # the same answers, but another modal
    assert again.json()["response_action"] == "update"
    bot.api.wait_for("chat.postMessage", count=10)
    assert count(bot.session_factory, Visit) == 2


def test_two_copies_of_a_proposal_at_once_on_two_replicas_make_one_visit(
    bot: Bot, session_factory: sessionmaker[Session]
) -> None:
    """Two replicas do not share the replay cache: the database decides (PostgreSQL makes the
    second transaction wait for the first; SQLite has one writer at a time)."""
    setup = set_up_people(bot)
    form = parse_proposal({"state": {"values": proposal_values(setup["topic"].id, setup["host"].id)}})
    results: list[str] = []

    def replica() -> None:
        try:
            proposing.propose(
                submissions.once(session_factory, "propose_visit:V0SAME", bot.clock()),
                form,
                visitor_id="U0VISITOR",
                home_library_id=setup["home"].id,
                now=bot.clock(),
            )
            results.append("proposed")
        except submissions.AlreadySubmitted:
            results.append("already")

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == ["already", "already", "already", "proposed"]
    assert count(session_factory, Visit) == 1


def test_a_replayed_offer_with_a_topic_suggestion_after_a_restart_saves_nothing_twice(bot: Bot) -> None:
    suggest_topic(bot)  # a new offer that suggests a new topic: the coordinators get a DM
    bot.api.wait_for("chat.postMessage")
    settle(bot)
    before, calls = snapshot(bot.session_factory), len(bot.api.calls)
    bot.deps.replays.clear()
    assert bot.slack.last is not None
    again = bot.slack.post(*bot.slack.last, headers=RETRY)
    settle(bot)
    assert (again.status, again.text) == (200, "")
    # no second DM to the coordinators (the contacts are looked up again: that only reads)
    assert [c.method for c in bot.api.calls[calls:] if c.method != "users.info"] == []
    assert snapshot(bot.session_factory) == before  # no second offer, no second suggestion
    assert count(bot.session_factory, HostOffer) == 1


def test_a_replay_arriving_while_the_first_is_being_answered_waits_and_answers_the_same(bot: Bot) -> None:
    setup = set_up_people(bot)
    assert bot.app is not None
    held, release = threading.Event(), threading.Event()

    @bot.app.middleware
    def hold_the_first(body: dict[str, Any], next: Callable[[], None]) -> None:  # after the replay check
        if body.get("type") == "view_submission" and not held.is_set():
            held.set()
            release.wait(10)
        next()

    replies: dict[str, Reply] = {}
    values = proposal_values(setup["topic"].id, setup["host"].id)
    first = threading.Thread(target=lambda: replies.update(first=bot.slack.submit(ids.PROPOSE_VIEW, values)))
    first.start()
    assert held.wait(10)
    assert bot.slack.last is not None
    body, content_type = bot.slack.last
    copy = SlackClient(bot.slack.url, bot.slack.secret, bot.slack.response_url)
    second = threading.Thread(
        target=lambda: replies.update(copy=copy.post(body, content_type, headers=RETRY))
    )
    second.start()
    second.join(timeout=0.5)
    assert "copy" not in replies  # the copy waits for the first delivery's answer
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert replies["copy"].text == replies["first"].text
    assert replies["first"].json()["response_action"] == "update"
    settle(bot)
    assert count(bot.session_factory, Visit) == 1
    assert len(bot.api.of("chat.postMessage")) == 5  # supervisor, two host contacts, coordinator, visitor

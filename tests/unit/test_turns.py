"""Requests take turns: a few at work at once, the rest in the order they came (bot/turns.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.turns import TurnDispatcher, stand_aside

WAIT = 5.0  # seconds a test waits for something that should happen at once


class Request:
    """A waitress task: notes when it starts, then does what `body` says, then waits until the
    test lets it finish."""

    def __init__(self, name: str, log: list[str], body: Callable[[Request], None] | None = None) -> None:
        self.name, self.log, self.body = name, log, body
        self.started = threading.Event()
        self.finish = threading.Event()
        self.ended = threading.Event()
        self.thread = 0

    def service(self) -> None:
        self.thread = threading.get_ident()
        self.log.append(self.name)
        self.started.set()
        if self.body is not None:
            self.body(self)
        assert self.finish.wait(WAIT)
        self.ended.set()

    def cancel(self) -> None:
        pass

    def done(self) -> None:
        self.finish.set()
        assert self.ended.wait(WAIT)


@pytest.fixture
def pool() -> Iterator[Callable[..., TurnDispatcher]]:
    made: list[TurnDispatcher] = []

    def make(working: int, patience: float = 60.0, threads: int = 6) -> TurnDispatcher:
        dispatcher = TurnDispatcher(working, patience)
        dispatcher.set_thread_count(threads)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.shutdown(timeout=1)


def in_queue(dispatcher: TurnDispatcher, count: int) -> None:
    time.sleep(0.05)  # room for a thread to take one that it should not
    assert len(dispatcher.queue) == count


def test_only_so_many_work_at_once_and_the_rest_in_the_order_they_came(pool) -> None:
    dispatcher, log = pool(2), []
    first, second = Request("a", log), Request("b", log)
    dispatcher.add_task(first)
    dispatcher.add_task(second)
    assert first.started.wait(WAIT) and second.started.wait(WAIT)
    waiting = [Request(name, log) for name in "cdef"]
    for request in waiting:
        dispatcher.add_task(request)
    in_queue(dispatcher, 4)

    second.done()
    assert waiting[0].started.wait(WAIT)
    in_queue(dispatcher, 3)
    first.done()
    assert waiting[1].started.wait(WAIT)
    in_queue(dispatcher, 2)
    waiting[0].done()
    assert waiting[2].started.wait(WAIT)
    waiting[1].done()
    assert waiting[3].started.wait(WAIT)
    waiting[2].done()
    waiting[3].done()
    assert log in (list("abcdef"), list("bacdef"))
    assert dispatcher.went_ahead == 0


def test_the_thread_that_ends_a_request_starts_the_next_itself(pool) -> None:
    dispatcher, log = pool(1), []
    requests = [Request(str(number), log) for number in range(4)]
    for request in requests:
        dispatcher.add_task(request)
    for request in requests:
        assert request.started.wait(WAIT)
        request.done()
    assert len({request.thread for request in requests}) == 1  # no hand-over to another thread


def test_a_request_that_waits_lets_the_next_start_and_then_goes_on_at_once(pool) -> None:
    dispatcher, log = pool(1), []
    slack_answers, back = threading.Event(), threading.Event()

    def wait_for_slack(request: Request) -> None:
        with stand_aside():
            assert slack_answers.wait(WAIT)
        log.append("a again")
        back.set()

    first, second, third = Request("a", log, wait_for_slack), Request("b", log), Request("c", log)
    dispatcher.add_task(first)
    assert first.started.wait(WAIT)
    dispatcher.add_task(second)
    assert second.started.wait(WAIT)  # starts while the first waits for Slack
    dispatcher.add_task(third)
    slack_answers.set()
    assert back.wait(WAIT)  # the first goes on at once, though the second works too
    second.done()
    in_queue(dispatcher, 1)  # with the first at work, the third still waits
    first.done()
    assert third.started.wait(WAIT)
    third.done()
    assert log == ["a", "b", "a again", "c"]


def test_when_the_line_stops_moving_the_next_starts_after_the_patience(pool) -> None:
    dispatcher, log = pool(1, patience=0.05), []
    stuck = Request("stuck", log)  # waits on something nobody stood aside for
    started = time.monotonic()  # the line last moved when the stuck one started, after this
    dispatcher.add_task(stuck)
    assert stuck.started.wait(WAIT)
    behind = Request("behind", log)
    dispatcher.add_task(behind)
    assert behind.started.wait(WAIT)
    assert time.monotonic() - started >= 0.05
    assert dispatcher.went_ahead == 1
    behind.done()
    stuck.done()


def test_every_request_behind_a_stalled_line_starts_within_the_patience(pool) -> None:
    dispatcher, log = pool(1, patience=0.1), []
    stuck = Request("stuck", log)
    dispatcher.add_task(stuck)
    assert stuck.started.wait(WAIT)
    first, second = Request("first", log), Request("second", log)
    dispatcher.add_task(first)
    time.sleep(0.03)  # the first is watched by then
    started = time.monotonic()
    dispatcher.add_task(second)
    assert first.started.wait(WAIT)
    assert second.started.wait(1.0)  # not only when a request ends or another comes
    assert time.monotonic() - started < 1.0
    assert dispatcher.went_ahead == 2
    for request in (second, first, stuck):
        request.done()


def test_a_line_that_moves_is_never_bypassed_however_long_it_is(pool) -> None:
    dispatcher, log = pool(1, patience=0.25), []
    at_once, most = [0], [0]
    lock = threading.Lock()

    def work(request: Request) -> None:
        with lock:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
        time.sleep(0.05)  # each well under the patience; all of them much more
        with lock:
            at_once[0] -= 1
        request.finish.set()

    requests = [Request(str(number), log, work) for number in range(8)]
    for request in requests:
        dispatcher.add_task(request)
    for request in requests:
        assert request.ended.wait(WAIT)
    assert log == [str(number) for number in range(8)]
    assert most[0] == 1
    assert dispatcher.went_ahead == 0


def test_no_limit_when_set_to_zero_and_standing_aside_outside_a_request_does_nothing(pool) -> None:
    dispatcher, log = pool(0), []
    requests = [Request(str(number), log) for number in range(5)]
    for request in requests:
        dispatcher.add_task(request)
    assert all(request.started.wait(WAIT) for request in requests)
    for request in requests:
        request.done()
    with stand_aside():
        pass
    assert dispatcher.at_work == 0

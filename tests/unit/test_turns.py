"""Requests take turns: a few at work at once, the rest in the order they came (bot/turns.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.turns import Turns, stand_aside

WAIT = 5.0  # seconds a test waits for something that should happen at once


class Worker:
    """A request on a thread of its own: takes a turn, notes when it started working, then
    does what `body` says until told to finish."""

    def __init__(self, turns: Turns, name: str, log: list[str], body: Callable[[Worker], None] | None = None):
        self.name, self.log, self.body = name, log, body
        self.working = threading.Event()
        self.finish = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(turns,), daemon=True)

    def _run(self, turns: Turns) -> None:
        with turns.hold():
            self.log.append(self.name)
            self.working.set()
            if self.body is not None:
                self.body(self)
            assert self.finish.wait(WAIT)

    def start(self) -> Worker:
        self.thread.start()
        return self

    def done(self) -> None:
        self.finish.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()


def in_line(turns: Turns, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while len(turns._line) < count:
        assert time.monotonic() < deadline, "nobody came into line"
        time.sleep(0.001)


def test_only_so_many_work_at_once_and_the_rest_in_the_order_they_came() -> None:
    turns, log = Turns(2, patience=WAIT), []
    first, second = Worker(turns, "a", log).start(), Worker(turns, "b", log).start()
    assert first.working.wait(WAIT) and second.working.wait(WAIT)
    waiting = []
    for number, name in enumerate("cdef", start=1):
        waiting.append(Worker(turns, name, log).start())
        in_line(turns, number)
    assert not any(worker.working.is_set() for worker in waiting)

    second.done()
    assert waiting[0].working.wait(WAIT)
    first.done()
    assert waiting[1].working.wait(WAIT)
    assert not waiting[2].working.is_set()
    waiting[0].done()
    assert waiting[2].working.wait(WAIT)
    assert not waiting[3].working.is_set()
    waiting[1].done()
    assert waiting[3].working.wait(WAIT)
    waiting[2].done()
    waiting[3].done()
    assert log == ["a", "b", "c", "d", "e", "f"] or log == ["b", "a", "c", "d", "e", "f"]
    assert turns.went_ahead == 0


def test_a_request_that_waits_lets_the_next_work_and_then_comes_back_first() -> None:
    turns, log = Turns(1, patience=WAIT), []
    slack_answers = threading.Event()
    back = threading.Event()

    def wait_for_slack(worker: Worker) -> None:
        with stand_aside():
            assert slack_answers.wait(WAIT)
        log.append("a again")
        back.set()

    first = Worker(turns, "a", log, wait_for_slack).start()
    assert first.working.wait(WAIT)
    second = Worker(turns, "b", log).start()
    assert second.working.wait(WAIT)  # works while the first waits for Slack
    third = Worker(turns, "c", log).start()
    in_line(turns, 1)
    slack_answers.set()
    in_line(turns, 2)  # the first is back in line, ahead of the third
    second.done()
    assert back.wait(WAIT)
    assert not third.working.is_set()
    first.done()
    third.done()
    assert log == ["a", "b", "a again", "c"]


def test_when_the_line_stops_moving_the_waiting_go_ahead_after_the_patience() -> None:
    turns, log = Turns(1, patience=0.05), []
    stuck = Worker(turns, "stuck", log).start()  # waits on something nobody stood aside for
    assert stuck.working.wait(WAIT)
    started = time.monotonic()
    behind = Worker(turns, "behind", log).start()
    assert behind.working.wait(WAIT)
    assert time.monotonic() - started >= 0.05
    assert turns.went_ahead == 1
    behind.done()
    stuck.done()
    assert turns._free == 1  # the turn of the stuck one is back; the other never had one


def test_a_line_that_moves_is_never_bypassed_however_long_it_is() -> None:
    turns, log = Turns(1, patience=0.05), []
    at_once, most = [0], [0]
    lock = threading.Lock()

    def work(worker: Worker) -> None:
        with lock:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
        time.sleep(0.03)  # each a little less than the patience; all of them much more
        with lock:
            at_once[0] -= 1
        worker.finish.set()

    workers = [Worker(turns, str(number), log, work) for number in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.thread.join(WAIT)
    assert sorted(log) == [str(number) for number in range(8)]
    assert most[0] == 1
    assert turns.went_ahead == 0


def test_no_limit_when_set_to_zero_and_standing_aside_outside_a_turn_does_nothing() -> None:
    turns, log = Turns(0), []
    workers = [Worker(turns, str(number), log).start() for number in range(5)]
    assert all(worker.working.wait(WAIT) for worker in workers)
    for worker in workers:
        worker.done()
    with stand_aside():
        pass
    assert turns._free == 0 and not turns._line

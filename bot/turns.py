"""Turns: how many requests one HTTP process works on at once (HTTP_WORKING_THREADS), the others
waiting in the order they came.

A process's threads share one GIL. With every server thread working on a request at once, they
take the GIL from each other (and from waitress's loop, which reads the requests) in no
particular order, so under load some answers wait many turns while others wait none: at 50
clients the bot's p99 was about three times its median (benchmarks/README.md). With two at work
and the rest of the requests in waitress's queue, in arrival order, the tail is close to the
median; and a thread that finishes a request takes the next one itself, with no hand-over to
another thread.

The other server threads stay, for the waits before an ack that use no CPU: a request thread
that waits (for its listener's ack on the pool, for Slack's users.info about a first-time user)
stands aside (`stand_aside()`), and an idle thread takes the next request meanwhile; the one
that stood aside goes on as soon as its wait ends. A wait nobody foresaw cannot hold the line
either: when no request has started or ended for PATIENCE seconds, the next one starts anyway,
as if there were no limit (which is what HTTP_WORKING_THREADS=0 sets). Threads that do not serve
a request (listeners after their ack, the reminder sweep) take no turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waitress.task import ThreadedTaskDispatcher

PATIENCE = 0.1  # seconds without a request starting or ending before the next starts anyway

_here = threading.local()  # .dispatcher: the TurnDispatcher whose request this thread works on


class TurnDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool, of which at most `working` threads work on a request at once
    (0: all of them). Its queue keeps the requests in the order they came."""

    def __init__(self, working: int, patience: float = PATIENCE) -> None:
        super().__init__()
        self.working = working
        self.patience = patience
        self.at_work = 0
        self.went_ahead = 0  # requests started past the limit because the line had stalled
        self.watching = 0  # threads waiting for a turn, each looking out for a stall
        self.moved = time.monotonic()  # when a request last started or ended (or stood aside)

    def _may_start(self) -> bool:
        return self.working <= 0 or self.at_work < self.working

    def _stalled(self) -> bool:
        return time.monotonic() - self.moved >= self.patience

    def handler_thread(self, thread_no: int) -> None:
        """waitress's own loop (task.py), with the turn taken before a request starts."""
        while True:
            with self.lock:
                while self.stop_count == 0:
                    if self.queue and self._may_start():
                        break
                    if self.queue and self._stalled():
                        self.went_ahead += 1
                        break
                    if self.queue:  # a request waits for a turn: look out for a stall meanwhile
                        self.watching += 1
                        self.queue_cv.wait(max(self.moved + self.patience - time.monotonic(), 0.001))
                        self.watching -= 1
                    else:  # idle, as waitress counts it
                        self.active_count -= 1
                        self.queue_cv.wait()
                        self.active_count += 1
                if self.stop_count > 0:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    break
                task = self.queue.popleft()
                self.at_work += 1
                self.moved = time.monotonic()
                if self.queue and not self.watching:  # someone looks out for the rest of the line
                    self.queue_cv.notify()
            _here.dispatcher = self
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                _here.dispatcher = None
                with self.lock:
                    self.at_work -= 1
                    self.moved = time.monotonic()
            # and round again: the next request in the queue is this thread's if a turn is free

    def add_task(self, task: Any) -> None:
        """waitress's, except that no thread is woken for a request that cannot start yet
        (unless nobody looks out for a stall)."""
        with self.lock:
            self.queue.append(task)
            if self._may_start() or not self.watching:
                self.queue_cv.notify()
            queue_size = len(self.queue)
            idle_threads = len(self.threads) - self.stop_count - self.active_count
            if queue_size > idle_threads:
                self.queue_logger.warning("Task queue depth is %d", queue_size - idle_threads)


@contextmanager
def stand_aside() -> Iterator[None]:
    """Around a wait that uses no CPU: another thread starts the next request meanwhile, and this
    one goes on as soon as its wait ends. Outside a request of a TurnDispatcher it does nothing."""
    dispatcher: TurnDispatcher | None = getattr(_here, "dispatcher", None)
    if dispatcher is None:
        yield
        return
    with dispatcher.lock:
        dispatcher.at_work -= 1
        dispatcher.moved = time.monotonic()
        if dispatcher.queue:
            dispatcher.queue_cv.notify()
    try:
        yield
    finally:
        with dispatcher.lock:  # (the line has not moved: `moved` stays)
            dispatcher.at_work += 1  # back at once: for a moment more than `working` may work

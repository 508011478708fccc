"""Turns: how many requests one HTTP process works on at once (HTTP_WORKING_THREADS), the others
waiting in the order they came.

A process's threads share one GIL. With every server thread working on a request at once, they
take the GIL from each other (and from waitress's loop, which reads the requests) in no
particular order, so under load some answers wait many turns while others wait none: at 50
clients the bot's p99 was about three times its median (benchmarks/README.md). With two at work
and the rest queued in arrival order, the tail is close to the median.

The other server threads stay, for the waits before an ack that use no CPU: a request thread
that waits (for its listener's ack on the pool, for Slack's users.info about a first-time user)
stands aside (`stand_aside()`) and hands its turn to the next request. A wait nobody foresaw
cannot hold the line either: when no turn has been handed on for PATIENCE seconds, those
waiting go ahead without one, as if there were no limit (which is what HTTP_WORKING_THREADS=0
sets). Threads that do not serve a request (listeners after their ack, the reminder sweep)
take no turns."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

PATIENCE = 0.1  # seconds without any turn handed on before those waiting go ahead anyway

_here = threading.local()  # .turns: the Turns whose turn this thread holds now


class Turns:
    def __init__(self, count: int, patience: float = PATIENCE) -> None:
        self.count = count
        self.patience = patience
        self.went_ahead = 0  # requests that went ahead without a turn (a stalled line)
        self._lock = threading.Lock()
        self._free = count
        self._line: deque[threading.Lock] = deque()  # one locked lock per waiting thread
        self._moved = time.monotonic()  # when a turn was last handed on

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Work on one request in a turn of its own (or without, if the line stalls)."""
        if self.count <= 0 or getattr(_here, "turns", None) is not None:
            yield
            return
        _here.turns = self if self._take(first=False) else None
        try:
            yield
        finally:
            if getattr(_here, "turns", None) is self:
                self._give_back()
            _here.turns = None

    def _take(self, *, first: bool) -> bool:
        """Wait for a turn: True with one, False when the line stalled."""
        arrived = time.monotonic()
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return True
            waiter = threading.Lock()
            waiter.acquire()
            if first:
                self._line.appendleft(waiter)
            else:
                self._line.append(waiter)
        while True:
            with self._lock:
                wait = max(self._moved, arrived) + self.patience - time.monotonic()
            if wait > 0 and waiter.acquire(timeout=wait):
                return True  # handed a turn
            with self._lock:
                if time.monotonic() - max(self._moved, arrived) < self.patience:
                    continue  # the line moved meanwhile: keep waiting
                try:
                    self._line.remove(waiter)
                except ValueError:
                    return True  # handed a turn just as the patience ran out
                self.went_ahead += 1
                return False

    def _give_back(self) -> None:
        with self._lock:
            self._moved = time.monotonic()
            if self._line:
                self._line.popleft().release()  # straight to the next in line
            else:
                self._free += 1


@contextmanager
def stand_aside() -> Iterator[None]:
    """Around a wait that uses no CPU: the next request in line works meanwhile, and this one
    gets the first turn free after it. Outside a turn it does nothing."""
    turns: Turns | None = getattr(_here, "turns", None)
    if turns is None:
        yield
        return
    _here.turns = None
    turns._give_back()
    try:
        yield
    finally:
        if turns._take(first=True):
            _here.turns = turns

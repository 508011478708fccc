"""One process's running parts let go in order, within their time, at SIGTERM."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import scheduler
from bot.startup import Running


class Engine:
    disposed = False

    def dispose(self) -> None:
        self.disposed = True


def test_close_stops_the_sweep_under_way_then_the_listeners_then_the_database() -> None:
    order: list[str] = []
    running: Running
    in_sweep = threading.Event()

    def sweep() -> None:  # a sweep that goes on until it is told the process is stopping
        in_sweep.set()
        while not running.stopping.is_set():
            time.sleep(0.01)
        order.append("sweep handed back its batch")

    pool = ThreadPoolExecutor(max_workers=2)
    pool.submit(lambda: (time.sleep(0.3), order.append("listener finished its post")))
    engine = Engine()
    running = Running(SimpleNamespace(listener_pool=pool), engine)
    jobs = [scheduler.Job("sweep", sweep, seconds=3600, at_start=True)]
    running.scheduler = scheduler.start(jobs, "Europe/Helsinki")
    assert in_sweep.wait(5)
    began = time.monotonic()
    running.close(within=5)
    assert time.monotonic() - began < 2
    assert sorted(order) == ["listener finished its post", "sweep handed back its batch"]
    assert engine.disposed and not running.scheduler.running


def test_close_gives_up_on_work_that_does_not_end_in_time() -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    pool.submit(release.wait)  # a listener stuck on a call that never answers
    running = Running(SimpleNamespace(listener_pool=pool), Engine())
    began = time.monotonic()
    running.close(within=0.5)
    assert 0.4 < time.monotonic() - began < 2  # the process can still exit in time
    release.set()

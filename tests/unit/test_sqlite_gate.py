"""SQLite writers queue on a file lock across processes (the HTTP worker processes, the CLI), not
in SQLite's busy handler."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from models.db import _FileGate


def _hold(path: str, taken, release) -> None:  # type: ignore[no-untyped-def]
    gate = _FileGate(path)
    assert gate.acquire(timeout=5)
    taken.set()
    release.wait(10)
    gate.release()


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_writer_in_another_process_holds_the_gate_until_it_lets_go(tmp_path) -> None:
    path = str(tmp_path / "db.sqlite3-writers")
    context = multiprocessing.get_context("fork")
    taken, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(path, taken, release))
    other.start()
    try:
        assert taken.wait(10)
        mine = _FileGate(path)
        assert not mine.acquire(timeout=0.05)  # the other process is writing
        release.set()
        assert mine.acquire(timeout=10)  # and once it has committed, this one writes
        mine.release()
    finally:
        release.set()
        other.join(10)


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_process_that_dies_while_writing_does_not_block_the_others(tmp_path) -> None:
    path = str(tmp_path / "db.sqlite3-writers")
    context = multiprocessing.get_context("fork")
    taken, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(path, taken, release))
    other.start()
    assert taken.wait(10)
    other.kill()
    other.join(10)
    mine = _FileGate(path)
    assert mine.acquire(timeout=10)
    mine.release()

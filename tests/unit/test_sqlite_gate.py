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


def _writer_elsewhere(path: str):  # type: ignore[no-untyped-def]
    """Another process that has taken the gate at `path`: (process, release event)."""
    context = multiprocessing.get_context("fork")
    taken, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(path, taken, release))
    other.start()
    assert taken.wait(10)
    return other, release


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_writer_in_another_process_holds_the_gate_until_it_lets_go(tmp_path) -> None:
    path = str(tmp_path / "db.sqlite3-writers")
    other, release = _writer_elsewhere(path)
    try:
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
    other, _ = _writer_elsewhere(path)
    other.kill()
    other.join(10)
    mine = _FileGate(path)
    assert mine.acquire(timeout=10)
    mine.release()


def _try_inherited(gate: _FileGate, result) -> None:  # type: ignore[no-untyped-def]
    result.put(gate.acquire(timeout=0.05))


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_forked_worker_does_not_share_its_parents_hold_on_the_gate(tmp_path) -> None:
    """A lock taken through a file the child inherited would be the parent's own lock: each
    process opens the file again."""
    gate = _FileGate(str(tmp_path / "db.sqlite3-writers"))
    assert gate.acquire(timeout=1)
    try:
        context = multiprocessing.get_context("fork")
        result = context.Queue()
        child = context.Process(target=_try_inherited, args=(gate, result))
        child.start()
        child.join(10)
        assert result.get(timeout=5) is False
    finally:
        gate.release()


def test_a_write_takes_the_file_gate(tmp_path) -> None:
    from sqlalchemy import text

    from models.db import _FILE_GATES, create_engine_for

    path = tmp_path / "db.sqlite3"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            other = _FileGate(str(path) + "-writers")
            assert not other.acquire(timeout=0.05)  # held by this write transaction
        assert other.acquire(timeout=1)  # and let go at its commit
        other.release()
        assert str(path) in _FILE_GATES
    finally:
        engine.dispose()

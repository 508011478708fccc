"""What the server's log shows when every server thread is busy."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from waitress.task import ThreadedTaskDispatcher

from bot import request_log


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue_log() -> Iterator[logging.Logger]:
    logger = logging.getLogger("waitress.queue")
    before = list(logger.filters)
    yield logger
    logger.filters[:] = before


class _Task:
    def service(self) -> None:  # never run: the dispatcher below has no threads
        raise AssertionError


def test_a_saturated_server_logs_its_queue_once_every_few_seconds(
    queue_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    """Waitress warns "Task queue depth is N" for every request that finds all threads busy;
    the bot lets one such line through every QUEUE_LOG_EVERY seconds."""
    request_log.quiet_server_queue()
    request_log.quiet_server_queue()  # configuring twice does not add a second filter
    dispatcher = ThreadedTaskDispatcher()  # waitress's, with no threads: every task waits
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(200):
            dispatcher.add_task(_Task())
    lines = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
    assert lines == ["Task queue depth is 1"]


def test_the_next_line_says_how_many_were_held_back() -> None:
    clock = Clock()
    every = request_log.EverySoOften(10.0, clock=clock)

    def record(depth: int) -> logging.LogRecord:
        return logging.LogRecord(
            "waitress.queue", logging.WARNING, "", 0, "Task queue depth is %d", (depth,), None
        )

    assert every.filter(record(1))
    assert not any(every.filter(record(d)) for d in range(2, 7))  # five held back
    clock.now += 9.9
    assert not every.filter(record(7))
    clock.now += 0.2
    passed = record(8)
    assert every.filter(passed)
    assert passed.getMessage() == "Task queue depth is 8 (and 6 more such lines since the last one logged)"
    clock.now += 10
    plain = record(1)
    assert every.filter(plain) and plain.getMessage() == "Task queue depth is 1"


def test_a_database_error_never_carries_what_people_typed(engine: Engine) -> None:
    """SQLAlchemy puts a failed statement's parameters in its message (`[parameters: ...]`), and
    the message reaches the logs with the traceback: the engines hide them (hide_parameters)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    typed = "Haluan oppia lukukoirista, puhelinnumeroni 040 123 4567"
    with pytest.raises(SQLAlchemyError) as failed, engine.connect() as connection:
        connection.execute(text("SELECT :learn FROM no_such_table"), {"learn": typed})
    assert "no_such_table" in str(failed.value)  # the error itself is still told
    assert typed not in str(failed.value) and "040 123" not in repr(failed.value)

"""Staff profiles under concurrency: a person's first requests arriving together make one profile."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from models import StaffProfile
from services import staff
from services.ports import UserInfo


class SlowDirectory:
    def __init__(self) -> None:
        self.barrier = threading.Barrier(4)

    def user_info(self, user_id: str) -> UserInfo:
        self.barrier.wait(timeout=10)  # every request has read "no profile" before any writes
        return UserInfo(user_id, "en-US", "Someone")


def test_simultaneous_first_requests_create_one_profile(session_factory, clock) -> None:
    directory = SlowDirectory()
    results: list[staff.Staff] = []
    errors: list[BaseException] = []

    def first_request() -> None:
        try:
            results.append(
                staff.identify(session_factory, directory, "U0TWICE", now=clock(), default_language="fi")
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert [r.language for r in results] == ["en"] * 4
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(StaffProfile)) == 1


@pytest.mark.postgres
def test_the_suite_really_runs_on_postgresql(session_factory) -> None:
    with session_factory() as session:
        assert session.get_bind().dialect.name == "postgresql"

"""Staff profiles under concurrency: a person's first requests arriving together make one profile."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from models import StaffProfile
from services.common.ports import UserInfo
from services.people import staff


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


def test_readers_do_not_wait_for_a_writer(session_factory, engine) -> None:
    """A unit of work holds SQLite's write lock; a plain read goes through meanwhile."""
    import time

    from models import Library

    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    with session_factory.begin() as writer:
        library = writer.scalars(select(Library)).first()
        assert library is not None
        library.name = "Uusi nimi"
        writer.flush()  # the write lock is held until this block commits
        started = time.perf_counter()
        with session_factory() as reader:
            assert reader.scalar(select(func.count()).select_from(Library)) == 32
        assert time.perf_counter() - started < 1.0


def test_staff_cache_expires_and_forgets() -> None:
    from datetime import UTC, datetime, timedelta

    cache = staff.StaffCache(ttl=timedelta(seconds=60))
    now = datetime(2026, 11, 24, tzinfo=UTC)
    person = staff.Staff("U1", "fi", None, 1, "Kirjasto", 1)
    cache.put(person, now)
    assert cache.get("U1", now + timedelta(seconds=59)) == person
    assert cache.get("U1", now + timedelta(seconds=60)) is None
    cache.put(person, now)
    cache.forget("U1")
    assert cache.get("U1", now) is None


def test_a_read_session_uses_one_connection(session_factory) -> None:
    from models import Library

    with session_factory() as session:
        first = session.connection()
        for _ in range(30):
            session.scalar(select(func.count()).select_from(Library))
        assert session.connection() is first


def test_saving_unchanged_settings_writes_nothing_and_a_change_is_audited(session_factory, clock) -> None:
    from models import AuditEntry, Library

    with session_factory() as session:
        first, second = session.scalars(select(Library.id).order_by(Library.id).limit(2)).all()

    def save(library_id: int, language: str | None) -> staff.Staff:
        return staff.update_settings(
            session_factory,
            "U1",
            home_library_id=library_id,
            language=language,
            now=clock(),
            default_language="fi",
        )

    def trail() -> list[tuple[str, str]]:
        with session_factory() as session:
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "staff").order_by(AuditEntry.id)
            )
            return [(e.action, e.entity_id) for e in entries]

    written = save(first, None)
    assert written.home_library_id == first
    assert save(first, None) == written  # the same again: the same answer, and no second entry
    saved = save(first, "sv")
    assert (saved.home_library_id, saved.language, saved.chosen_language) == (first, "sv", "sv")
    assert save(second, "sv").home_library_id == second
    assert save(second, "sv") == save(second, "sv") and save(second, "sv").language == "sv"
    assert trail() == [("settings.update", "U1")] * 3


@pytest.mark.postgres
def test_connections_the_database_dropped_are_replaced_before_use(db_url, monkeypatch) -> None:
    """After a database restart (here: every connection of the pool killed), the next request
    gets a working connection, not an error; a connection in steady use is not pinged."""
    from sqlalchemy import text

    from models import db

    engine = db.create_engine_for(db_url, pool_size=2, max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        for _ in range(5):  # busy: straight back into use, no ping
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert not pings  # neither the new connection nor one in steady use
        before = len(pings)
        killer = db.create_engine_for(db_url, pool_size=1, max_overflow=0)
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # as if it had rested a while
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 41 + 1")).scalar() == 42
        assert len(pings) > before  # the rested connection was pinged, found dead, replaced
    finally:
        engine.dispose()

"""What the request hot path relies on: the typeahead's in-memory library list answers as the
database does, Bolt's matchers are the cheap ones, and SQLite writers queue without stalls."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from models import Library, create_engine_for, make_session_factory
from models.db import SQLITE_BUSY_TIMEOUT_MS
from services.catalogue.libraries import LibraryNames, search_libraries

QUERIES = [
    "",
    "kuo",
    "KUOPION",
    "ii",
    "j",
    "pääkirjasto",
    "Pääkirjasto",
    "kuopio pää",
    "ei-ole",
    "savon  sellu",
    "%",
    "_",
]


@pytest.mark.parametrize("query", QUERIES)
def test_typeahead_from_memory_matches_the_database(session_factory, query: str) -> None:
    names = LibraryNames(session_factory)
    with session_factory() as session:
        expected = search_libraries(session, query)
        region = session.get(Library, expected[0].id).region_id if expected else None
        expected_in_region = search_libraries(session, query, region_id=region, limit=5)
    assert names.search(query) == list(expected)
    assert names.search(query, region_id=region, limit=5) == list(expected_in_region)


def test_typeahead_sees_a_renamed_library_after_its_time(session_factory) -> None:
    names = LibraryNames(session_factory, ttl=3600)
    first = names.search("")[0]
    with session_factory.begin() as session:
        session.get(Library, first.id).name = "Aaaa-kirjasto"
    assert names.get(first.id).name == first.name  # still the kept list
    names.forget()
    assert names.get(first.id).name == "Aaaa-kirjasto"
    assert names.search("aaaa")[0].id == first.id


def test_sqlite_writers_queue_and_a_failed_write_frees_the_next(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'gate.sqlite3'}")
    factory = make_session_factory(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))

    with pytest.raises(RuntimeError), factory.begin() as session:
        session.execute(text("UPDATE counter SET n = n + 100"))
        raise RuntimeError("a write that fails half-way")

    started = time.monotonic()
    errors: list[BaseException] = []

    def add(times: int) -> None:
        try:
            for _ in range(times):
                with factory.begin() as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(50,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 400
    assert errors == []
    # Nobody waited out the busy timeout on a lock the failed write had left behind.
    assert time.monotonic() - started < SQLITE_BUSY_TIMEOUT_MS / 1000
    engine.dispose()


def test_the_request_thread_gets_the_ack_as_soon_as_the_listener_gives_it() -> None:
    from bot.middleware import StickyAck

    ack = StickyAck()  # made in the request thread, as the middleware does
    seen_elsewhere: list[object] = []

    def listener() -> None:
        seen_elsewhere.append(ack.response)  # another thread never waits: None at once
        ack(text="ok")

    thread = threading.Timer(0.2, listener)
    thread.start()
    answer = ack.response  # waits for the listener instead of returning None
    thread.join()
    assert answer is not None and answer.status == 200 and answer.body == "ok"
    assert seen_elsewhere == [None]
    ack.response = None  # Bolt's runner after a listener error: the answer stays
    assert ack.response is answer

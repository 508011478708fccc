"""The replay cache on its own: first answers kept for a while, bounded, failures forgotten."""

from __future__ import annotations

import hashlib
import threading
import time

from slack_bolt import BoltRequest, BoltResponse

from bot.replays import READING, ReplayCache, delivery_key


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_replay_gets_the_first_answer_until_it_expires() -> None:
    ticks = Ticks()
    cache = ReplayCache(ttl=600, clock=ticks)
    key = ("view_submission", "t1", 1)
    assert cache.begin(key) is None
    cache.finish(key, BoltResponse(status=200, body='{"response_action": "clear"}'))
    seen = cache.begin(key)
    assert seen is not None
    replay = cache.answer(seen)
    assert (replay.status, replay.body) == (200, '{"response_action": "clear"}')
    ticks.now += 601
    assert cache.begin(key) is None  # ten minutes later it is a new delivery


def test_a_failed_first_delivery_is_forgotten_so_that_the_retry_runs() -> None:
    cache = ReplayCache()
    key = ("event_callback", "Ev1", 2)
    assert cache.begin(key) is None
    cache.finish(key, BoltResponse(status=500, body=""))
    assert cache.begin(key) is None
    cache.finish(key, None)  # an exception: no answer at all
    assert cache.begin(key) is None


def test_the_cache_keeps_at_most_max_entries_oldest_out_first() -> None:
    cache = ReplayCache(max_entries=3)
    for n in range(5):
        key = ("command", f"t{n}", n)
        assert cache.begin(key) is None
        cache.finish(key, BoltResponse(status=200, body=str(n)))
    assert len(cache) == 3
    assert cache.begin(("command", "t0", 0)) is None  # the oldest were dropped
    assert cache.begin(("command", "t4", 4)) is not None


def test_a_replay_in_flight_waits_for_the_first_answer() -> None:
    cache = ReplayCache(wait=5)
    key = ("block_actions", "t1", 3)
    assert cache.begin(key) is None
    seen = cache.begin(key)
    assert seen is not None
    answers: list[BoltResponse] = []
    waiter = threading.Thread(target=lambda: answers.append(cache.answer(seen)))
    waiter.start()
    time.sleep(0.1)
    assert answers == []  # still waiting for the first delivery
    cache.finish(key, BoltResponse(status=200, body="first"))
    waiter.join(timeout=5)
    assert [(a.status, a.body) for a in answers] == [(200, "first")]


def test_a_replay_waits_at_most_a_little_then_acknowledges_empty() -> None:
    cache = ReplayCache(wait=0.05)
    key = ("block_actions", "t2", 4)
    assert cache.begin(key) is None
    seen = cache.begin(key)
    assert seen is not None
    answer = cache.answer(seen)
    assert (answer.status, answer.body) == (200, "")


def test_the_cache_keeps_at_most_max_bytes_of_answers() -> None:
    cache = ReplayCache(max_bytes=1000)
    for n in range(10):
        key = ("view_submission", f"t{n}", n)
        assert cache.begin(key) is None
        cache.finish(key, BoltResponse(status=200, body="x" * 300))
    assert cache.bytes <= 1000 + 300
    assert len(cache) <= 4
    assert cache.begin(("view_submission", "t9", 9)) is not None  # the newest is kept


def test_deliveries_are_known_by_their_id_and_body() -> None:
    form = "application/x-www-form-urlencoded"
    command = "command=%2Fvertais&text=asetukset&trigger_id=1.2.3&user_id=U1"
    key = delivery_key(BoltRequest(body=command, headers={"content-type": [form]}))
    assert key is not None and key[:2] == ("command", "1.2.3")
    other = delivery_key(
        BoltRequest(body=command.replace("asetukset", "ehdota"), headers={"content-type": [form]})
    )
    assert other is not None and other != key  # same id, another body: never taken for a replay
    reading = delivery_key(
        BoltRequest(body=command.replace("asetukset", "apua"), headers={"content-type": [form]})
    )
    assert reading is not None and reading[0] == READING  # help only reads: kept in memory
    event = '{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}'
    assert delivery_key(BoltRequest(body=event))[:2] == ("event_callback", "Ev1")  # type: ignore[index]
    typeahead = '{"type": "block_suggestion", "action_id": "x", "value": "kuo"}'
    assert delivery_key(BoltRequest(body="payload=" + typeahead, headers={"content-type": [form]})) is None
    # Socket Mode: a parsed body; known by its id, and not at all without one
    socket = BoltRequest(body={"type": "view_closed", "view": {}}, mode="socket_mode")
    assert delivery_key(socket) is None
    socket = BoltRequest(body={"type": "block_actions", "trigger_id": "9.9"}, mode="socket_mode")
    assert delivery_key(socket) == ("block_actions", "9.9", hashlib.sha256(b"").hexdigest())


# --- the store in the database, shared by replicas ------------------------------------------------
class Wall:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def test_a_retry_that_reaches_another_replica_gets_the_first_answer(session_factory) -> None:
    from datetime import timedelta

    from bot.replays import ReplayStore

    wall = Wall()
    here, there = (
        ReplayStore.on(session_factory, ttl=600, wait=0.2, poll=0.01, clock=wall) for _ in range(2)
    )
    key = ("view_submission", "t1", "a" * 64)
    assert here.begin(key) is None  # the first delivery, on this replica
    seen = there.begin(key)  # its retry, on the other, while it is being answered
    assert seen is not None
    assert (there.answer(seen).status, there.answer(seen).body) == (200, "")  # waited, then acked
    here.finish(key, BoltResponse(status=200, body='{"response_action": "clear"}'))
    replay = there.answer(there.begin(key))
    assert (replay.status, replay.body) == (200, '{"response_action": "clear"}')
    wall.now += timedelta(seconds=601)
    assert there.begin(key) is None  # ten minutes later it is a new delivery


def test_a_failed_first_delivery_in_the_store_lets_the_retry_run(session_factory) -> None:
    from bot.replays import ReplayStore

    store = ReplayStore.on(session_factory)
    key = ("event_callback", "Ev1", "b" * 64)
    assert store.begin(key) is None
    store.finish(key, BoltResponse(status=500, body=""))
    assert store.begin(key) is None  # the retry runs the listeners again
    store.finish(key, None)  # a crash before any answer: the same
    assert store.begin(key) is None

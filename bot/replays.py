"""The same request delivered twice changes nothing the second time.

Slack retries an event it thinks we missed (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`), and a
proxy, a flaky network or a Socket Mode reconnect can deliver an interaction twice. A delivery
is known by its id (`event_id` for events; `trigger_id` for commands, buttons and modal
submissions) together with its exact signed body, so two different requests never share a key.
The first delivery runs the listeners as usual and its answer (status and body) is kept for ten
minutes in a bounded in-memory cache; a replay gets that same answer and runs nothing. A replay
that arrives while the first is still being answered waits for it (at most `wait` seconds) and
then answers the same. Typeahead (`block_suggestion`) only reads, so it is never cached.

The cache holds at most 10,000 answers and 4 MB of answer bodies (about 8 MB in all): hours of
this bot's real traffic, only the last seconds under a load test, which is when nothing is
retried anyway.

Only answers below 500 are kept: after a crash or a 5xx, Slack's retry runs the listeners again
(services commit once, so a failed attempt left nothing behind). What must not happen twice even
across a lost cache is guarded in the domain too (services/common/submissions.py: a proposal or
an offer carries the submitting view's id as a unique key).

On PostgreSQL the answers live in the database (`ReplayStore`, table `deliveries`), so that a
retry that reaches another replica, on another machine, is recognised there too: a first
delivery inserts its row (one INSERT … ON CONFLICT DO NOTHING decides who is first) and fills in
its answer once given; a replay reads it, waiting while it is being answered. On SQLite, which
serves one process, the in-memory `ReplayCache` does the same without a write per request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy import URL, Engine, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.commands import Sub, parse
from models import Delivery, create_engine_for

Key = tuple[str, str, str]  # kind, trigger_id or event_id, SHA-256 of the signed body

KEY = "replay_key"  # where the middleware leaves a first delivery's key in the request context
REPLAYED = "replayed"  # set in the context of a replay (for the request log)


Answer = tuple[int, str, str | None]  # status, body, content type

_FAILED = (0, "", None)  # the first delivery failed: its replays get an empty acknowledgement


class _Delivery:
    __slots__ = ("answer", "expires")

    def __init__(self, expires: float) -> None:
        self.expires = expires
        self.answer: Answer | None = None  # None while the first delivery is being answered


class ReplayCache:
    """The answers to recent deliveries, oldest first, each kept `ttl` seconds, at most
    `max_entries` of them and `max_bytes` of answer bodies (the oldest go first)."""

    def __init__(
        self,
        ttl: float = 600.0,
        max_entries: int = 10_000,
        max_bytes: int = 4_000_000,
        wait: float = 2.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.wait = wait
        self.clock = clock
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)  # one for all: replays in flight are rare
        self._entries: OrderedDict[Key, _Delivery] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        """Forget everything (what a restart does)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def begin(self, key: Key) -> _Delivery | None:
        """None for a first delivery (now registered as in flight), else the earlier delivery."""
        now = self.clock()
        with self._lock:
            seen = self._entries.get(key)
            if seen is not None and seen.expires > now:
                return seen
            entries = self._entries
            while entries:
                oldest = next(iter(entries.values()))
                full = len(entries) >= self.max_entries or self._bytes > self.max_bytes
                if not full and oldest.expires > now:
                    break
                self._forget(next(iter(entries)))
            entries[key] = _Delivery(now + self.ttl)
            return None

    def finish(self, key: Key, response: BoltResponse | None) -> None:
        """Keep the first delivery's answer, or forget the delivery if it failed (a retry runs)."""
        with self._answered:
            delivery = self._entries.get(key)
            if delivery is None:
                return
            if response is None or response.status >= 500:
                self._forget(key)
                delivery.answer = _FAILED
            else:  # a copy: Bolt may still change the response object after a listener fails
                content_types = response.headers.get("content-type") or []
                content_type = next(iter(content_types), None)
                delivery.answer = (response.status, response.body, content_type)
                self._bytes += len(response.body)
            self._answered.notify_all()

    def answer(self, delivery: _Delivery) -> BoltResponse:
        """The earlier delivery's answer; if it is still being worked on after `wait` seconds, or
        failed meanwhile, an empty acknowledgement (the first delivery's answer is what counts)."""
        deadline = time.monotonic() + self.wait
        with self._answered:
            while delivery.answer is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._answered.wait(remaining)
            first = delivery.answer
        if first is None or first is _FAILED:
            return BoltResponse(status=200, body="")
        status, body, content_type = first
        headers: dict[str, str | Sequence[str]] | None = (
            {"content-type": content_type} if content_type else None
        )
        return BoltResponse(status=status, body=body, headers=headers)

    def _forget(self, key: Key) -> None:
        delivery = self._entries.pop(key)
        if delivery.answer is not None:
            self._bytes -= len(delivery.answer[1])


def delivery_key(req: BoltRequest) -> Key | None:
    body: dict[str, Any] = req.body or {}
    kind = body.get("type")
    if kind == "event_callback":
        ident = body.get("event_id")
    elif kind == "block_suggestion":
        return None
    else:
        ident = body.get("trigger_id")
        if kind is None:
            kind = "command" if "command" in body else "unknown"
            if kind == "command" and parse(str(body.get("text") or "")).sub in READS_ONLY:
                kind = READING  # answered from what it reads: running it twice changes nothing
    if not ident and not req.raw_body:
        return None  # Socket Mode hands a parsed body: without an id, nothing tells two apart
    return (str(kind), str(ident or ""), hashlib.sha256(req.raw_body.encode()).hexdigest())


READING = "command.reads"  # the kind of a command that only reads (see `SplitReplays`)
READS_ONLY = {None, Sub.HELP, Sub.FIND, Sub.MINE, Sub.IDEAS}  # None: a word we do not know


class Replays(Protocol):
    """Where first answers are kept: this process's memory, or the database."""

    def begin(self, key: Key) -> Any: ...

    def finish(self, key: Key, response: BoltResponse | None) -> None: ...

    def answer(self, delivery: Any) -> BoltResponse: ...

    def clear(self) -> None: ...


class ReplayStore:
    """The answers to recent deliveries in the database, shared by every replica: each kept
    `ttl` seconds (rows older than that are deleted now and then, and taken over when their
    delivery comes again). A replay of a delivery still being answered (somewhere) waits for
    its answer, reading the row every `poll` seconds, at most `wait` seconds in all.

    Each write is one statement on a connection of its own pool, in autocommit and, on
    PostgreSQL, without waiting for the write-ahead log's flush (`synchronous_commit=off`): a
    crash may lose the last moment's rows, and then a retry runs again, which the domain's own
    guards make harmless; every request pays one round trip at its start and one at its end."""

    PURGE_EVERY = 60.0  # seconds between deletes of expired rows, in each process

    def __init__(
        self,
        engine: Engine,
        ttl: float = 600.0,
        wait: float = 2.5,
        poll: float = 0.05,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # Built once: each request runs them with its own values.
        self._first = (
            insert(Delivery)
            .values(key=bindparam("digest"), expires_at=bindparam("expires"))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Delivery.key)
        )
        self._take_over = (
            update(Delivery)
            .where(Delivery.key == bindparam("digest"), Delivery.expires_at <= bindparam("now"))
            .values(status=None, body=None, content_type=None, expires_at=bindparam("expires"))
        )
        self._answered = (
            update(Delivery)
            .where(Delivery.key == bindparam("digest"))
            .values(status=bindparam("status"), body=bindparam("body"), content_type=bindparam("type"))
        )
        self._forget = delete(Delivery).where(Delivery.key == bindparam("digest"))
        self._read = select(Delivery.status, Delivery.body, Delivery.content_type).where(
            Delivery.key == bindparam("digest")
        )
        self.ttl = timedelta(seconds=ttl)
        self.wait = wait
        self.poll = poll
        self.clock = clock
        self._purged = time.monotonic()

    @classmethod
    def on(cls, session_factory: sessionmaker[Session], **kwargs: Any) -> ReplayStore:
        """A store in the database of `session_factory`, on this process's pool for it."""
        with session_factory() as session:
            url = session.get_bind().engine.url
        return cls(_engine_for(url), **kwargs)

    @staticmethod
    def digest(key: Key) -> str:
        return hashlib.sha256("\0".join(key).encode()).hexdigest()

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(Delivery))

    def begin(self, key: Key) -> str | None:
        """None for a first delivery (its row now says it is being answered), else the key of
        the earlier delivery's row."""
        digest, now = self.digest(key), self.clock()
        with self.engine.begin() as connection:  # on PostgreSQL each statement commits at once
            values = {"digest": digest, "expires": now + self.ttl, "now": now}
            first = connection.execute(self._first, values).first()
            if first is None:  # seen before: unless that was long ago, this is a replay
                taken = connection.execute(self._take_over, values)
                if not taken.rowcount:
                    return digest
            if time.monotonic() - self._purged > self.PURGE_EVERY:
                self._purged = time.monotonic()
                connection.execute(delete(Delivery).where(Delivery.expires_at <= now))
        return None

    def finish(self, key: Key, response: BoltResponse | None) -> None:
        """Keep the first delivery's answer, or forget the delivery if it failed (a retry runs)."""
        digest = self.digest(key)
        with self.engine.begin() as connection:
            if response is None or response.status >= 500:
                connection.execute(self._forget, {"digest": digest})
                return
            content_type = next(iter(response.headers.get("content-type") or []), None)
            answer = {
                "digest": digest,
                "status": response.status,
                "body": response.body,
                "type": content_type,
            }
            connection.execute(self._answered, answer)

    def answer(self, delivery: str) -> BoltResponse:
        """The earlier delivery's answer; an empty acknowledgement if it is still being worked
        on after `wait` seconds, or failed meanwhile (the first delivery's answer counts)."""
        deadline = time.monotonic() + self.wait
        while True:
            with self.engine.connect() as connection:
                row = connection.execute(self._read, {"digest": delivery}).first()
            if row is None:  # the first delivery failed: its retry runs elsewhere
                return BoltResponse(status=200, body="")
            if row.status is not None:
                headers: dict[str, str | Sequence[str]] | None = (
                    {"content-type": row.content_type} if row.content_type else None
                )
                return BoltResponse(status=row.status, body=row.body or "", headers=headers)
            if time.monotonic() >= deadline:
                return BoltResponse(status=200, body="")
            time.sleep(self.poll)


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine_for(url: URL) -> Engine:
    """The replays' own engine for a database, one per process: autocommit, and on PostgreSQL
    without waiting for the flush of each commit."""
    text_url = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(text_url)
        if engine is None:
            options: dict[str, Any] = {"pool_size": 5, "max_overflow": 40}
            if url.get_backend_name() == "postgresql":
                options.update(
                    isolation_level="AUTOCOMMIT", connect_args={"options": "-c synchronous_commit=off"}
                )
            engine = _ENGINES[text_url] = create_engine_for(text_url, **options)
        return engine


class SplitReplays:
    """Deliveries that only read (help, find, the lists: `READING`) in this process's memory, the
    rest in the shared store: a retry of a reading command that reaches another replica runs
    again, which changes nothing, and saves the shared store two writes for a third of the
    requests."""

    def __init__(self, memory: ReplayCache, shared: ReplayStore) -> None:
        self.memory = memory
        self.shared = shared

    def _store(self, key: Key) -> Replays:
        return self.memory if key[0] == READING else self.shared

    def begin(self, key: Key) -> Any:
        store = self._store(key)
        seen = store.begin(key)
        return None if seen is None else (store, seen)

    def finish(self, key: Key, response: BoltResponse | None) -> None:
        self._store(key).finish(key, response)

    def answer(self, delivery: Any) -> BoltResponse:
        store, seen = delivery
        return store.answer(seen)

    def clear(self) -> None:
        self.memory.clear()
        self.shared.clear()


class ReplayMiddleware(Middleware):
    """Answers replays before any other middleware runs (no profile look-up, no listener)."""

    def __init__(self, cache: Replays) -> None:
        self.cache = cache

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        key = delivery_key(req)
        if key is None:
            return next()
        seen = self.cache.begin(key)
        if seen is None:
            req.context[KEY] = key
            return next()
        req.context[REPLAYED] = True
        return self.cache.answer(seen)


def register(app: App, cache: Replays) -> None:
    app.use(ReplayMiddleware(cache))


def finish(cache: Replays, req: BoltRequest, response: BoltResponse | None) -> None:
    """Called once the request has been answered (see VertaisApp.dispatch)."""
    key = req.context.get(KEY)
    if key is not None:
        cache.finish(key, response)

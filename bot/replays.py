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
(services commit once, so a failed attempt left nothing behind). Across a restart the cache is
empty; what must not happen twice even then is guarded in the domain (services/common/submissions.py:
a proposal or an offer carries the submitting view's id as a unique key). The hot path is a few
dict look-ups and one hash of the body (about 10 µs): no database query.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

Key = tuple[str, str, int]  # kind, trigger_id or event_id, hash of the signed body

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
    if not ident and not req.raw_body:
        return None  # Socket Mode hands a parsed body: without an id, nothing tells two apart
    return (str(kind), str(ident or ""), hash(req.raw_body))


class ReplayMiddleware(Middleware):
    """Answers replays before any other middleware runs (no profile look-up, no listener)."""

    def __init__(self, cache: ReplayCache) -> None:
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


def register(app: App, cache: ReplayCache) -> None:
    app.use(ReplayMiddleware(cache))


def finish(cache: ReplayCache, req: BoltRequest, response: BoltResponse | None) -> None:
    """Called once the request has been answered (see VertaisApp.dispatch)."""
    key = req.context.get(KEY)
    if key is not None:
        cache.finish(key, response)

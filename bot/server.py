"""HTTP mode: every Slack request at POST /slack/events, a health check at GET /healthz,
served by waitress (a production WSGI server with a thread pool)."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from bot.authenticity import MAX_BODY, RequestGate
from bot.payload_shape import well_formed
from bot.turns import TurnDispatcher

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class WsgiApp:
    def __init__(self, app: App, engine: Engine, signing_secret: str) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.gate = RequestGate(signing_secret)
        self.engine = engine

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events":
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "use POST"})
            body = self.gate.admit(environ)
            if body is None:  # forged, stale or malformed: Bolt never sees it
                return _json(start_response, "401 Unauthorized", {"error": "invalid request"})
            if not well_formed(body, str(environ.get("CONTENT_TYPE") or "")):  # nothing Slack sends
                return _json(start_response, "400 Bad Request", {"error": "bad request"})
            self.gate.spell_for_bolt(environ, body, str(environ.get("CONTENT_TYPE") or ""))
            try:
                return self.slack(environ, start_response)
            except Exception:  # a body Bolt cannot even parse (it parses before it verifies)
                log.warning("unparseable request to /slack/events", exc_info=True)
                return _json(start_response, "400 Bad Request", {"error": "bad request"})
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self.health(start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.warning("health check: database does not answer", exc_info=True)
            return _json(start_response, "503 Service Unavailable", {"status": "database unavailable"})
        return _json(start_response, "200 OK", {"status": "ok"})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class QuietChannel(HTTPChannel):
    """waitress's connection, except that waitress's loop does not spin while a request thread
    sends the answer.

    A request thread appends its answer to the connection's buffer and sends it at once, holding
    the buffer's lock. Meanwhile waitress's loop saw a buffer that was not empty, asked `select`
    for the socket's room to write (which a socket nearly always has), found the lock taken,
    sent nothing and asked again, at once: 40,000 rounds a second in one process under load.
    Each round takes the GIL, and the request thread, back from its send, waited for the GIL
    (up to the 5 ms switch interval) to finish. Now the loop leaves a connection's writes to
    the thread that holds the lock. What that thread could not send, it wakes the loop for once
    the lock is free (waitress's own wake-up comes while the lock is still held, and the loop
    would find it taken and then sleep); and while it waits for the loop to empty a full buffer
    (`_flush_outbufs_below_high_watermark`), the loop writes as waitress's own channel does."""

    _waits_for_loop = False

    def writable(self) -> bool:
        if (
            self.requests
            and self.total_outbufs_len
            and not (self.will_close or self.close_when_flushed or self._waits_for_loop)
        ):
            if not self.outbuf_lock.acquire(False):
                return False  # a request thread is sending it
            self.outbuf_lock.release()
        return bool(super().writable())

    def write_soon(self, data: Any) -> int:
        written = int(super().write_soon(data))
        if self.total_outbufs_len and self.connected:
            self.server.pull_trigger()  # the socket was full: the loop sends the rest
        return written

    def _flush_outbufs_below_high_watermark(self) -> None:
        self._waits_for_loop = True
        try:
            super()._flush_outbufs_below_high_watermark()
        finally:
            self._waits_for_loop = False


def create_server(
    wsgi: WsgiApp,
    host: str | None = None,
    port: int | None = None,
    threads: int = 16,
    *,
    working: int = 0,
    sockets: list[socket.socket] | None = None,
) -> Any:
    """A waitress server, not yet running (`.run()` serves; `.close()` stops): on `host` and
    `port`, or on listening `sockets` already bound (the workers of bot/processes.py). Of its
    `threads`, `working` work on a request at once (bot/turns.py; 0: all of them)."""
    from waitress import create_server as waitress_server

    where: dict[str, Any] = {"sockets": sockets} if sockets else {"host": host, "port": port}
    dispatcher = TurnDispatcher(working)
    dispatcher.set_thread_count(threads)
    # `_dispatcher` is how waitress takes a dispatcher of one's own (its tests use it too)
    servers: dict[int, Any] = {}
    server = waitress_server(
        wsgi,
        map=servers,
        threads=threads,
        ident="vertaisbot",
        max_request_body_size=MAX_BODY,  # a larger body is refused before it is read
        _dispatcher=dispatcher,
        **where,
    )
    for listening in list(servers.values()):  # each listening socket's server, before any accept
        if isinstance(listening, BaseWSGIServer):
            listening.channel_class = QuietChannel
    return server

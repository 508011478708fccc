"""KeepAliveWebClient: slack_sdk's WebClient, but its calls reuse kept-alive connections.

slack_sdk's WebClient sends each Web API call with `urllib.request.urlopen`, which opens a new
connection (a TCP handshake, and in production a TLS handshake) and closes it after the answer.
This client sends the same request over an `http.client` connection taken from a pool shared by
the whole process, and puts the connection back once the answer is read. Everything else is
slack_sdk's own code: the request it builds, its retry handlers and its errors. Like urllib, a
failure to connect or send is raised as `URLError`, an answer outside 2xx as `HTTPError`, so the
retry handlers see exactly what they saw before.

A connection the server closed while it rested in the pool is noticed before it is used again
(the socket reads as ready: end of file), and connections that rested longer than
`MAX_IDLE_SECONDS` are closed. A forked worker process forgets the connections of its parent.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import select
import threading
import time
from ssl import SSLContext
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_sdk import WebClient

# Servers close idle keep-alive connections after some time (often 60 s): a connection that
# rested longer than this is closed rather than risk a race with that close.
MAX_IDLE_SECONDS = 20.0
# Idle connections kept per server; more than this many at rest are closed.
MAX_IDLE_PER_SERVER = 16

Key = tuple[str, str, SSLContext | None]


class ConnectionPool:
    """Idle `http.client` connections by (scheme, host:port, TLS context), newest first."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._idle: dict[Key, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._clock = clock

    def take(self, key: Key, timeout: float | None) -> http.client.HTTPConnection:
        """A connection at rest to the server of `key` that is still open, or a new one."""
        now = self._clock()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    break
                connection, rested_since = idle.pop()
            if now - rested_since <= MAX_IDLE_SECONDS and not _dropped(connection):
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection
            connection.close()
        scheme, host, context = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, timeout=timeout)

    def give_back(self, key: Key, connection: http.client.HTTPConnection) -> None:
        now = self._clock()
        closing: list[http.client.HTTPConnection] = []
        with self._lock:
            idle = self._idle.setdefault(key, [])
            idle.append((connection, now))
            if len(idle) > MAX_IDLE_PER_SERVER:
                closing.append(idle.pop(0)[0])
            # Servers no longer in use (a test's fake that stopped) do not keep their sockets.
            for rest in self._idle.values():
                while rest and now - rest[0][1] > MAX_IDLE_SECONDS:
                    closing.append(rest.pop(0)[0])
        for stale in closing:
            stale.close()

    def idle(self) -> int:
        with self._lock:
            return sum(len(rest) for rest in self._idle.values())

    def close(self) -> None:
        with self._lock:
            everything = [connection for rest in self._idle.values() for connection, _ in rest]
            self._idle.clear()
        for connection in everything:
            connection.close()

    def forget(self) -> None:
        """In a forked child: the parent's connections are its own, never to be shared."""
        self._idle = {}
        self._lock = threading.Lock()


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether the server closed (or wrote to) a connection at rest: its socket reads as ready."""
    sock = connection.sock
    if sock is None:
        return False  # not connected yet: http.client connects on the first request
    try:
        if hasattr(select, "poll"):  # any descriptor (select's stop at 1024)
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


POOL = ConnectionPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=POOL.forget)


class KeepAliveWebClient(WebClient):
    """A WebClient whose calls go over the process's pooled connections (see the module)."""

    pool: ConnectionPool = POOL

    @classmethod
    def adopt(cls, client: WebClient) -> WebClient:
        """`client` (a plain WebClient that Bolt made for one request) made one of these: the
        same object and settings, only its calls go over the pool."""
        if type(client) is WebClient:
            client.__class__ = cls
        return client

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or req.type not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key: Key = (req.type, req.host, self.ssl if req.type == "https" else None)
        connection = self.pool.take(key, self.timeout)
        try:
            response = _exchange(connection, req)
            body = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self.pool.give_back(key, connection)
        if not 200 <= response.status < 300:
            raise HTTPError(
                req.full_url, response.status, response.reason, response.headers, io.BytesIO(body)
            )
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        decoded = body.decode(response.headers.get_content_charset() or "utf-8")
        if self._logger.level <= logging.DEBUG:
            self._logger.debug(
                f"Received the following response - status: {response.status}, "
                f"headers: {dict(response.headers)}, body: {decoded}"
            )
        return {"status": response.status, "headers": response.headers, "body": decoded}


def _exchange(connection: http.client.HTTPConnection, req: Request) -> http.client.HTTPResponse:
    """Send `req` and read the answer's head. As in urllib, a failure to connect or send is a
    URLError and a failure to read the answer is raised as it is, so slack_sdk's retry handler
    for connection errors retries both, as before (a server that closed a pooled connection just
    as it was taken, past the check in `take`, is one of these)."""
    try:
        connection.request(req.get_method(), req.selector, req.data, dict(req.header_items()))
    except OSError as error:
        raise URLError(error) from error
    return connection.getresponse()

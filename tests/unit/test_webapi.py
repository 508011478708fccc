"""Web API calls reuse kept-alive connections, and a connection the server closed is never used
again (bot/webapi.py)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot import webapi
from bot.webapi import ConnectionPool, KeepAliveWebClient
from tests.fakes.slack_api import FakeSlackApi, rate_limited


class Server(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 server that counts its connections and, if `close_after` is set, closes each
    connection that long after its first answer (as servers close idle keep-alive connections)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, close_after: float | None) -> None:
        self.close_after = close_after
        self.connections = 0
        self.closed = threading.Event()  # set when it closed a connection after its answer
        self.answered = 0
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        self.server.connections += 1
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                byte = self.rfile.read(1)
                if not byte:
                    return
                head += byte
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            self.rfile.read(length)
            body = json.dumps({"ok": True}).encode()
            self.server.answered += 1  # before the answer goes: the client may look at once
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            if self.server.close_after is not None:
                time.sleep(self.server.close_after)
                self.connection.close()  # as an idle keep-alive connection is closed
                self.server.closed.set()
                return


@pytest.fixture
def server_factory() -> Iterator[Any]:
    servers: list[Server] = []

    def make(close_after: float | None = None) -> Server:
        server = Server(close_after)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def client_for(url: str, pool: ConnectionPool) -> KeepAliveWebClient:
    client = KeepAliveWebClient(token="xoxb-test", base_url=url, retry_handlers=[])
    client.pool = pool
    return client


def test_calls_reuse_one_connection(server_factory: Any) -> None:
    server = server_factory()
    pool = ConnectionPool()
    client = client_for(server.url, pool)
    for _ in range(3):
        assert client.auth_test()["ok"]
    assert (server.connections, server.answered) == (1, 3)
    pool.close()


def test_a_connection_the_server_closed_is_not_used_again(server_factory: Any) -> None:
    server = server_factory(close_after=0.01)
    pool = ConnectionPool()
    client = client_for(server.url, pool)  # no retries: a dead connection would fail the call
    assert client.auth_test()["ok"]
    assert server.closed.wait(5)  # the server has closed the connection at rest in the pool
    time.sleep(0.05)
    assert client.auth_test()["ok"]
    assert (server.connections, server.answered) == (2, 2)
    pool.close()


def test_a_connection_that_rested_long_is_closed_and_a_new_one_made(server_factory: Any) -> None:
    server = server_factory()
    now = [0.0]
    pool = ConnectionPool(clock=lambda: now[0])
    client = client_for(server.url, pool)
    assert client.auth_test()["ok"]
    now[0] += webapi.MAX_IDLE_SECONDS + 1
    assert client.auth_test()["ok"]
    assert server.connections == 2
    pool.close()


def test_an_error_answer_is_still_slacks_error_and_the_connection_is_kept() -> None:
    api = FakeSlackApi()
    pool = ConnectionPool()
    client = client_for(api.url, pool)
    api.fail_next("chat.postMessage", rate_limited(7))
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="D1", text="hei")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel="D1", text="hei")["ok"]
    assert pool.idle() == 1
    pool.close()
    api.close()


class SeenErrors(ConnectionErrorRetryHandler):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.errors: list[Exception | None] = []

    def can_retry(self, *, error: Exception | None = None, **kw: Any) -> bool:
        self.errors.append(error)  # asked after each failed attempt
        return bool(super().can_retry(error=error, **kw))


def test_a_server_that_cannot_be_reached_is_urllibs_error_and_retried_as_before() -> None:
    """slack_sdk's retry handler for connection errors sees the URLError that urllib raised."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nobody listens there once it is closed
    retries = SeenErrors(max_retry_count=1)
    client = KeepAliveWebClient(
        token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[retries]
    )
    client.pool = ConnectionPool()
    with pytest.raises(URLError):
        client.auth_test()
    assert [type(error) for error in retries.errors] == [URLError, URLError]  # the call, its retry


def test_bolts_client_for_each_request_is_made_one_that_keeps_connections() -> None:
    from slack_sdk import WebClient

    plain = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    assert KeepAliveWebClient.adopt(plain) is plain
    assert isinstance(plain, KeepAliveWebClient)
    assert plain.token == "xoxb-test" and plain.base_url == "http://127.0.0.1:9/api/"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")
def test_a_forked_process_does_not_use_its_parents_connections() -> None:
    key = ("http", "127.0.0.1:9", None)
    webapi.POOL.give_back(key, http.client.HTTPConnection("127.0.0.1:9"))
    at_rest = webapi.POOL.idle()  # with any that earlier tests' clients left there
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports and leaves at once
        os.write(write, str(webapi.POOL.idle()).encode())
        os._exit(0)
    os.waitpid(child, 0)
    seen_by_child = int(os.read(read, 16))
    os.close(read)
    os.close(write)
    assert at_rest >= 1
    assert (seen_by_child, webapi.POOL.idle()) == (0, at_rest)
    webapi.POOL.close()

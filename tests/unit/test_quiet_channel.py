"""waitress's loop rests while a request thread sends its answer, and every answer still arrives
whole (bot/server.py: QuietChannel)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from waitress.channel import HTTPChannel

from bot.server import create_server

Environ = dict[str, Any]


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Any] = []

    def start(app: Any) -> Any:
        server = create_server(app, host="127.0.0.1", port=0, threads=2)
        threading.Thread(target=server.run, daemon=True, name="loop").start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def connect(server: Any) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", server.effective_port), timeout=10)
    client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    return client


def read_answer(client: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))[15:]
    )
    while len(body) < length:
        chunk = client.recv(1 << 20)
        assert chunk, "the connection closed before the whole answer came"
        body += chunk
    return head, body


def test_the_loop_rests_while_a_request_thread_holds_the_answer_to_send(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, finish = threading.Event(), threading.Event()

    def app(environ: Environ, start_response: Any) -> list[bytes]:
        started.set()
        finish.wait(10)
        start_response("200 OK", [("Content-Length", "5")])
        return [b"hello"]

    server = serve(app)
    client = connect(server)
    assert started.wait(5)
    (channel,) = [c for c in server._map.values() if isinstance(c, HTTPChannel)]
    rounds = 0
    real_select = select.select

    def counting_select(*args: Any) -> Any:
        nonlocal rounds
        rounds += 1
        return real_select(*args)

    monkeypatch.setattr(select, "select", counting_select)
    # What a request thread does while it sends its answer: a byte in the buffer, the lock held.
    with channel.outbuf_lock:
        channel.outbufs[-1].append(b"x")
        channel.total_outbufs_len += 1
        server.pull_trigger()
        time.sleep(0.3)
        busy_rounds = rounds
        channel.outbufs[-1].skip(1, True)
        channel.total_outbufs_len -= 1
    # waitress's own channel asks select again at once, thousands of times in 0.3 s
    assert busy_rounds < 20

    finish.set()
    head, body = read_answer(client)
    assert head.startswith(b"HTTP/1.1 200") and body == b"hello"
    client.close()


def pause_after_waking(server: Any, pause: float) -> None:
    """Hold the request thread up right after each time it wakes the loop, as happens under
    load (before it lets go of the buffer's lock)."""
    wake = server.pull_trigger

    def wake_then_pause() -> None:
        wake()
        if threading.current_thread().name != "loop":
            time.sleep(pause)

    server.pull_trigger = wake_then_pause


@pytest.mark.parametrize("pause", [0.0, 0.05])
def test_an_answer_larger_than_the_socket_takes_arrives_whole_and_at_once(serve: Any, pause: float) -> None:
    """Written in parts while the reader does not read yet, more than waitress buffers before
    the request thread must wait for the loop to send (16 MB): the loop must not sleep until its
    one-second timeout meanwhile."""
    part = bytes(range(256)) * (8 * 4096)  # 8 MB
    parts = 4

    def app(environ: Environ, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", str(len(part) * parts))])
        for _ in range(parts):
            yield part

    server = serve(app)
    pause_after_waking(server, pause)
    client = connect(server)
    time.sleep(0.3)  # the socket's buffers fill up; the rest waits in waitress's buffer
    started = time.monotonic()
    head, body = read_answer(client)
    assert head.startswith(b"HTTP/1.1 200")
    assert body == part * parts
    assert time.monotonic() - started < 0.5
    client.close()


def test_what_the_socket_did_not_take_is_sent_while_the_request_goes_on(serve: Any) -> None:
    part = bytes(range(256)) * (8 * 4096)  # 8 MB: more than the sockets' buffers hold
    go_on = threading.Event()

    def app(environ: Environ, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", str(len(part) + 3))])
        yield part
        go_on.wait(10)  # the request is still served while the reader reads the first part
        yield b"end"

    server = serve(app)
    pause_after_waking(server, 0.05)
    client = connect(server)
    time.sleep(0.3)
    started = time.monotonic()
    data = b""
    while len(data) < len(part) or b"\r\n\r\n" not in data:
        data += client.recv(1 << 20)
    took = time.monotonic() - started
    go_on.set()
    head, _, body = data.partition(b"\r\n\r\n")
    while len(body) < len(part) + 3:
        body += client.recv(1 << 20)
    assert body == part + b"end"
    assert took < 0.5
    client.close()

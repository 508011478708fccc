"""A minimal Socket Mode endpoint on 127.0.0.1: the WebSocket Slack hands out from
apps.connections.open. It says hello, sends envelopes the test gives it, and records the acks."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.received: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.lock = threading.Condition()
        self.client: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.listener.getsockname()[1]}/link/?ticket=test"

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.listener.close()

    def send(self, message: dict[str, Any]) -> None:
        assert self.connected.wait(30), "the bot never connected"
        self._frame(0x1, json.dumps(message).encode())

    def wait_for_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for message in self.received:
                    if message.get("envelope_id") == envelope_id:
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no ack for {envelope_id}; got {self.received}")
                self.lock.wait(remaining)

    # --- WebSocket plumbing (RFC 6455, just what the test needs) ------------------------------
    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        self.client = client
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
        key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        client.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self._frame(0x1, json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}).encode())
        self.connected.set()
        self._read(client)

    def _frame(self, opcode: int, data: bytes) -> None:
        assert self.client is not None
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([len(data)])
        elif len(data) < 65536:
            header += bytes([126]) + struct.pack("!H", len(data))
        else:
            header += bytes([127]) + struct.pack("!Q", len(data))
        self.client.sendall(header + data)

    def _read(self, client: socket.socket) -> None:
        def exactly(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = client.recv(n - len(data))
                if not chunk:
                    raise ConnectionError
                data += chunk
            return data

        try:
            while True:
                first, second = exactly(2)
                opcode = first & 0x0F
                length = second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", exactly(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", exactly(8))[0]
                mask = exactly(4) if second & 0x80 else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(exactly(length)))
                if opcode == 0x9:
                    self._frame(0xA, payload)
                elif opcode == 0x8:
                    return
                elif opcode == 0x1:
                    with self.lock:
                        self.received.append(json.loads(payload))
                        self.lock.notify_all()
        except (ConnectionError, OSError):
            return

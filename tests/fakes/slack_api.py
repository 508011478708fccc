"""A recording fake of Slack's Web API on 127.0.0.1, port 0, with realistic replies.

The app's WebClient points at it (`SLACK_API_URL`). Every call is recorded as (method, body);
tests wait for calls made after an ack, and can make the next call of a method fail.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class _Server(ThreadingHTTPServer):
    # Slack never refuses a connection. socketserver's listen backlog of 5 made a burst of
    # calls (the load benchmark's views.open at 50 clients) lose SYNs and wait a second for the
    # kernel to send them again.
    request_queue_size = 1024
    daemon_threads = True


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    at: float
    ok: bool = True  # False: the fake failed it (nothing was posted, updated or opened)


@dataclass
class Failure:
    """How the fake fails a call: an HTTP status and error (429 sends `Retry-After`), after
    `delay` seconds. `close`: drop the connection without answering. A delay longer than the
    client's timeout is a time-out; `hang` waits until the test ends (or `release()`).
    `taken`: Slack does what was asked (the message is posted) and only then is the answer lost
    (the connection closes after `delay`): the call is recorded as one that took effect."""

    status: int = 200
    error: str = "internal_error"
    retry_after: int | None = None
    delay: float = 0.0
    close: bool = False
    hang: bool = False
    taken: bool = False


# The faults of a Web API that a bot must survive, by name (tests parametrize over these).
def rate_limited(seconds: int = 30) -> Failure:
    return Failure(status=429, retry_after=seconds)


def server_error() -> Failure:
    return Failure(status=500, error="internal_error")


def closed_connection() -> Failure:
    return Failure(close=True)


def taken_then_closed(delay: float = 0.0) -> Failure:
    """Slack takes the call (posts the message), then the connection closes before its answer."""
    return Failure(close=True, taken=True, delay=delay)


def timeout(seconds: float) -> Failure:
    """Answer (with a 504) only after `seconds`: longer than the client waits."""
    return Failure(status=504, error="request_timeout", delay=seconds)


class FakeSlackApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.Condition()
        self.locales: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.revoked: set[str] = {"xoxb-revoked"}
        self.gone: set[str] = set()  # users who have left: a message to them is not_found
        self.deactivated: set[str] = set()  # users.info says deleted (an account switched off)
        self.outside: set[str] = set()  # channels the bot has not been invited to: not_in_channel
        self.socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode)
        self.failures: dict[str, deque[Failure | None]] = defaultdict(deque)  # None: let one pass
        self.outages: dict[str, Failure] = {}  # methods that fail every time until cleared
        self.released = threading.Event()
        self.answer_delay: dict[str, float] = {}  # method -> seconds to wait before a good answer
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> messages
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> name and length (files_upload_v2)
        self._ts = 1_700_000_000_000100
        self._views = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # It writes an answer's head and body in two sends: without this, a kept-alive
            # connection waits for the client's delayed ACK (40 ms) before the body goes.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response_url/{name}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    # --- test controls ---------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.failures.clear()
            self.outages.clear()
            self.released.set()
            self.released = threading.Event()
            self.answer_delay.clear()
            self.history.clear()
            self.uploads.clear()
            self.locales.clear()
            self.names.clear()
            self.gone.clear()
            self.deactivated.clear()
            self.outside.clear()
            self.socket_url = None

    def fail_next(self, method: str, failure: Failure | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.failures[method].append(failure or Failure())

    def fail_nth(self, method: str, n: int, failure: Failure) -> None:
        """Let the next n-1 calls of `method` through, and fail the n-th."""
        with self.lock:
            self.failures[method].extend([None] * (n - 1))
            self.failures[method].append(failure)

    def fail_while(self, failure: Failure, *methods: str) -> None:
        """Fail every call of these methods until `heal()` (a fault that lasts a while)."""
        with self.lock:
            for method in methods:
                self.outages[method] = failure

    def heal(self) -> None:
        """The fault clears: every method answers again (hanging calls are let go)."""
        with self.lock:
            self.outages.clear()
            self.failures.clear()
            self.released.set()
            self.released = threading.Event()

    def delivered(self, method: str) -> list[Call]:
        """The calls of `method` that took effect (the fake did not fail them)."""
        return [call for call in self.of(method) if call.ok]

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = [call for call in self.calls if call.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({call.method for call in self.calls})
                    raise AssertionError(f"{method} called {len(found)} times, wanted {count}; saw {seen}")
                self.lock.wait(remaining)

    # --- the server ------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlparse(handler.path).path
        data = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        raw = data.decode(errors="replace")  # uploads may be binary (a PNG chart)
        content_type = handler.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            body = json.loads(raw or "{}")
        else:
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        if path.startswith("/response_url/"):
            method = "response_url"
        elif path.startswith("/upload/"):  # the upload URL of files_upload_v2 (raw bytes, no token)
            with self.lock:
                self.calls.append(
                    Call(
                        "upload",
                        {"file_id": path.removeprefix("/upload/"), "raw": raw, "bytes": data},
                        time.monotonic(),
                    )
                )
                self.lock.notify_all()
            handler.send_response(200)
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"OK")
            return None
        else:
            method = path.removeprefix("/api/")
        with self.lock:
            failure = self.failures[method].popleft() if self.failures.get(method) else None
            failure = failure or self.outages.get(method)
            taken = failure is not None and failure.taken
            refused = method in ("chat.postMessage", "chat.update") and body.get("channel") in self.outside
            self.calls.append(
                Call(method, body, time.monotonic(), ok=(failure is None or taken) and not refused)
            )
            released = self.released
            self.lock.notify_all()
        if failure is not None and taken:
            self._answer(method, body)  # Slack has it; the answer is lost on the way back
        if failure is not None:
            if failure.hang:
                released.wait(120)
            elif failure.delay:
                released.wait(failure.delay)
            if failure.close or failure.hang:
                handler.close_connection = True
                try:
                    handler.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return None
            headers = [("Retry-After", str(failure.retry_after))] if failure.retry_after is not None else []
            error = "ratelimited" if failure.status == 429 else failure.error
            return self._reply(handler, failure.status, {"ok": False, "error": error}, headers)
        if method == "response_url":
            return self._reply(handler, 200, {"ok": True})
        authorization = handler.headers.get("Authorization", "")
        if method == "apps.connections.open" and authorization.startswith("Bearer xapp-") and self.socket_url:
            return self._reply(handler, 200, {"ok": True, "url": self.socket_url})
        if not authorization.startswith("Bearer xoxb-"):
            return self._reply(handler, 200, {"ok": False, "error": "not_authed"})
        if authorization.removeprefix("Bearer ") in self.revoked:
            return self._reply(handler, 200, {"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage" and body.get("channel") in self.gone:
            return self._reply(handler, 200, {"ok": False, "error": "user_not_found"})
        if method in ("chat.postMessage", "chat.update") and body.get("channel") in self.outside:
            return self._reply(handler, 200, {"ok": False, "error": "not_in_channel"})
        answer = self._answer(method, body)  # Slack has it now, even if the answer never arrives
        delay = self.answer_delay.get(method)
        if delay:
            time.sleep(delay)
        return self._reply(handler, 200, answer)

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://kirjastot.slack.com/",
                "team": "Kirjastot",
                "user": "vertaisbotti",
                "team_id": "T0LIBRARY",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            with self.lock:
                self._ts += 100
                ts = body.get("ts") or f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
            channel = body.get("channel")
            if channel and str(channel).startswith("U"):
                channel = "D" + str(channel)[1:]
            reply: dict[str, Any] = {"ok": True, "channel": channel, "ts": ts}
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            metadata = body.get("metadata")
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            blocks = body.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            if method == "chat.postMessage":
                with self.lock:
                    self.history[str(channel)].append(
                        # the fake's ts are not wall-clock times: `oldest` is compared with `at`
                        {"type": "message", "ts": ts, "text": body.get("text", ""), "blocks": blocks}
                        | {"metadata": metadata, "bot_id": "B0BOT", "at": time.time()}
                    )
            else:  # chat.update: the message in the history shows the update (metadata if given)
                with self.lock:
                    for message in self.history.get(str(channel), []):
                        if message["ts"] == ts:
                            message.update(text=body.get("text", ""), blocks=blocks)
                            if metadata is not None:
                                message["metadata"] = metadata
            reply["message"] = {"type": "message", "text": body.get("text", ""), "bot_id": "B0BOT", "ts": ts}
            return reply
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = body.get("view")
            view = json.loads(view) if isinstance(view, str) else (view or {})
            if body.get("hash") == "stale":
                return {"ok": False, "error": "hash_conflict"}
            with self.lock:
                self._views += 1
                number = self._views
            return {"ok": True, "view": dict(view, id=f"V{number:08d}", hash=f"1700000000.{number:08x}")}
        if method == "users.info":
            user = body.get("user", "")
            locale = self.locales.get(user, "en-US")
            name = self.names.get(user, f"user {user}")
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": "T0LIBRARY",
                    "name": name.lower().replace(" ", "."),
                    "deleted": user in self.deactivated,
                    "is_bot": user.startswith("U0BOT"),  # the bot's own id and other apps'
                    "real_name": name,
                    "tz": "Europe/Helsinki",
                    "locale": locale,
                    "profile": {"real_name": name, "display_name": name},
                },
            }
        if method == "files.getUploadURLExternal":
            with self.lock:
                self._views += 1
                file_id = f"F{self._views:08d}"
                self.uploads[file_id] = {"name": body.get("filename"), "length": body.get("length")}
            port = self.server.server_address[1]
            return {"ok": True, "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            channel = body.get("channel_id")
            if channel:  # shared: a message with the files, as conversations.history shows it
                with self.lock:
                    self._ts += 100
                    ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
                    shared = [self._file(f, ts) for f in files]
                    self.history[str(channel)].append(
                        {"type": "message", "subtype": "file_share", "ts": ts}
                        | {"text": body.get("initial_comment", ""), "files": shared, "upload": True}
                        | {"user": "U0BOT", "bot_id": "B0BOT", "display_as_bot": False, "at": time.time()}
                    )
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method == "conversations.history":
            # Newest first, `limit` a page, a cursor for the next; metadata only when asked for.
            oldest = float(body.get("oldest") or 0)
            with self.lock:
                found = [dict(m) for m in self.history.get(str(body.get("channel")), []) if m["at"] > oldest]
            found.reverse()
            limit = int(body.get("limit") or 100)
            start = int(body.get("cursor") or 0)
            page = found[start : start + limit]
            if str(body.get("include_all_metadata")).lower() not in ("1", "true"):
                for message in page:
                    message.pop("metadata", None)
            more = start + limit < len(found)
            return {
                "ok": True,
                "messages": page,
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""},
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", "X"))[1:12]}}
        return {"ok": True}

    def _file(self, completed: dict[str, Any], ts: str) -> dict[str, Any]:
        """A shared file as Slack describes it in a message's `files` (the fields a bot reads):
        its name is the filename given to files.getUploadURLExternal."""
        upload = self.uploads.get(str(completed.get("id")), {})
        name = str(upload.get("name") or "")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        created = int(float(ts))
        return {
            "id": completed.get("id"),
            "created": created,
            "timestamp": created,
            "name": name,
            "title": completed.get("title") or name,
            "mimetype": {"ics": "text/calendar", "html": "text/html", "png": "image/png"}.get(
                extension, "application/octet-stream"
            ),
            "filetype": extension,
            "user": "U0BOT",
            "size": int(upload.get("length") or 0),
            "mode": "hosted",
            "is_external": False,
        }

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: list[tuple[str, str]] = (),
    ) -> None:  # type: ignore[assignment]
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

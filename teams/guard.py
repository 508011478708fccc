"""A plain ASGI layer in front of the SDK's `/api/messages` route: what is not a well-formed
activity never reaches the SDK, which answers 500 to such bodies (microsoft-teams-apps 2.1.1: its
FastAPI route parses JSON before checking the token, and an activity its models refuse raises).

In order: a request without a bearer token gets 401 (unless unauthenticated dev mode), a body over
MAX_BODY, not JSON, not an object, without a `serviceUrl` (the SDK checks the token's `serviceurl`
claim only against a present one) or refused by the SDK's own public `ActivityTypeAdapter` gets
400, and so does a sign-in invoke (the bot has none). Everything else goes on to the SDK, which checks the token's signature, issuer, audience,
lifetime and `serviceurl`. Nothing here logs a body or a header's value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from microsoft_teams.api import ActivityTypeAdapter
from pydantic import ValidationError

# Sign-in invokes go to the SDK's own OAuth handlers, which call the Bot Framework token service
# and answer 500 when that fails; vertaisbot has no sign-in (no OAuth connection), so they are refused.
SIGN_IN_PREFIX = "signin/"
MAX_BODY = 256 * 1024  # Teams' own activities are far smaller (a card message is at most ~100 KB)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_activity(body: bytes) -> dict[str, Any]:
    """The body as an activity the SDK can take, or BadRequest(400, why)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "not JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest(400, "not an object")
    service_url = parsed.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        raise BadRequest(400, "no serviceUrl")
    try:
        ActivityTypeAdapter.validate_python(parsed)
    except (ValidationError, ValueError, TypeError, RecursionError):
        raise BadRequest(400, "not an activity") from None
    if parsed.get("type") == "invoke" and str(parsed.get("name", "")).startswith(SIGN_IN_PREFIX):
        raise BadRequest(400, "no sign-in")
    return parsed


class InboundGuard:
    """ASGI middleware (Starlette's `add_middleware` takes it) guarding one POST path."""

    def __init__(self, app: ASGIApp, *, path: str, require_bearer: bool, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.path = path
        self.require_bearer = require_bearer
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await self.read(scope, receive)
            check_activity(body)
        except BadRequest as refused:
            log.info("teams request refused: %s (%d)", refused.reason, refused.status)
            await answer(send, refused.status, refused.reason)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # the client's disconnect, if it comes
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def read(self, scope: Scope, receive: Receive) -> bytes:
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        if self.require_bearer and not headers.get(b"authorization", b"").startswith(b"Bearer "):
            raise BadRequest(401, "no bearer token")
        declared = headers.get(b"content-length", b"")
        if declared and (not declared.isdigit() or int(declared) > self.max_body):
            raise BadRequest(400, "body too large")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadRequest(400, "client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BadRequest(400, "body too large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def answer(send: Send, status: int, reason: str) -> None:
    payload = json.dumps({"error": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})

"""Global middleware: it adds to the context (who is asking, in which language, and a
`respond()` that gives up as soon as the Web API's calls do) and cleans what people typed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from ssl import SSLContext
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot import replays
from bot.deps import Deps
from bot.i18n import translator
from bot.request_log import library_logger
from services.common import text
from services.people import staff

ACK_WAIT = 3.0  # seconds: Slack's limit for an answer, and Bolt's default ack_timeout


class StickyAck(Ack):
    """An ack whose answer, once given, stays given, and reaches the request thread at once.

    Sticky: when a listener raises after it has acked, Bolt 1.30's thread runner sets
    `ack.response` back to None; if that happens before the request thread has looked at the
    ack, Slack gets a 404 after 3 s although the listener had answered. Keeping the first answer
    makes the request's outcome what the listener said, and the error handler still tells the
    user about the failure.

    At once: the request thread waits for the listener's ack by reading `ack.response` every
    10 ms (`while ack.response is None: time.sleep(0.01)`), so every answer took 10 ms or more
    and a server thread could answer at most 100 requests a second. Here a read from the thread
    that made this ack (the request thread: this middleware runs in it) waits on an event until
    the ack comes, at most the 3 s Slack allows; other threads never wait.
    """

    def __init__(self) -> None:
        super().__init__()
        self.__dict__["_answered"] = threading.Event()
        self.__dict__["_waiter"] = threading.get_ident()
        self.__dict__["_deadline"] = time.monotonic() + ACK_WAIT

    @property
    def given(self) -> BoltResponse | None:
        """The answer the listener gave, if it has (never waits)."""
        answer: BoltResponse | None = self.__dict__.get("_response")
        return answer

    @property
    def response(self) -> BoltResponse | None:
        answer = self.given
        if answer is None and threading.get_ident() == self.__dict__.get("_waiter"):
            remaining = self.__dict__["_deadline"] - time.monotonic()
            if remaining > 0:
                if self.__dict__["_answered"].wait(remaining):  # the listener works on the pool
                    answer = self.__dict__.get("_response")
        return answer

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is None and self.__dict__.get("_response") is not None:
            return
        self.__dict__["_response"] = value
        if value is not None and "_answered" in self.__dict__:
            self.__dict__["_answered"].set()


class TimedRespond(Respond):
    """Bolt's `respond()`, with the Web API's time-out (SLACK_TIMEOUT) instead of the 30 seconds
    of slack_sdk's WebhookClient: a response_url that does not answer would hold a listener
    thread that long, and the person would wait as long for the answer that handlers/replies.py
    then sends another way."""

    def __init__(
        self, *, response_url: str, timeout: float, proxy: str | None, ssl: SSLContext | None
    ) -> None:
        super().__init__(response_url=response_url, proxy=proxy, ssl=ssl)
        self.timeout = timeout

    def __call__(  # Bolt's signature, so that any call of Bolt's respond() works the same
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if isinstance(text, dict):
            whole = dict(text)
        else:
            fields = {
                "text": text,
                "blocks": [_as_dict(block) for block in blocks] if blocks else None,
                "attachments": [_as_dict(item) for item in attachments] if attachments else None,
                "response_type": response_type,
                "replace_original": replace_original,
                "delete_original": delete_original,
                "unfurl_links": unfurl_links,
                "unfurl_media": unfurl_media,
                "thread_ts": thread_ts,
                "metadata": metadata,
            }
            whole = {key: value for key, value in fields.items() if value is not None}
        client = WebhookClient(
            url=str(self.response_url),
            timeout=self.timeout,  # type: ignore[arg-type]  # urllib takes fractions too
            proxy=self.proxy,
            ssl=self.ssl,
            logger=library_logger("slack_sdk.webhook.client"),
        )
        return client.send_dict(whole)


def _as_dict(item: dict[str, Any] | Block | Attachment) -> dict[str, Any]:
    return item if isinstance(item, dict) else item.to_dict()


class _StickyAckMiddleware(Middleware):
    """Gives the request a StickyAck before anything makes Bolt's plain Ack.

    Our middleware are `Middleware` classes, not decorated functions: Bolt builds some 30
    listener arguments (Ack, Say, Respond, the payload in every shape…) for each function
    middleware on every request, which cost more than the middleware's own work."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        context = req.context
        if context.get("ack") is None or context["ack"].response is None:  # nobody has acked yet
            context["ack"] = StickyAck()
        return next()


class _IdentifyMiddleware(Middleware):
    """Who is asking, and in which language (`context["staff"]`, `context["t"]`)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        deps, context = self.deps, req.context
        if context.response_url:
            context["respond"] = TimedRespond(
                response_url=context.response_url,
                timeout=deps.settings.slack_timeout,
                proxy=context.client.proxy,
                ssl=context.client.ssl,
            )
        user_id = context.user_id
        if user_id:
            me = staff.identify(
                deps.session_factory,
                deps.directory,
                user_id,
                now=deps.now(),
                default_language=deps.settings.default_language,
                cache=deps.staff_cache,
            )
            context["staff"] = me
            context["t"] = translator(me.language)
        else:
            context["t"] = translator(deps.settings.default_language)
        return next()


class _CleanTextMiddleware(Middleware):
    """Every text a person typed, cleaned by one rule (`services.common.text.clean`) before any
    listener reads it: a slash command's text, and every string in a form's or a message's
    input state. Listeners and services never see a NUL or another control character."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body
        if isinstance(body.get("text"), str) and body.get("command"):
            body["text"] = text.clean(body["text"])
        for holder in (body, body.get("view")):
            state = holder.get("state") if isinstance(holder, dict) else None
            if isinstance(state, dict) and isinstance(state.get("values"), dict):
                state["values"] = _cleaned(state["values"])
        return next()


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return text.clean(value)
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def register(app: App, deps: Deps) -> None:
    assert deps.replays is not None, "Deps.__post_init__ chooses where replays are kept"
    replays.register(app, deps.replays)  # first: a replayed delivery gets the first answer, runs nothing
    app.use(_StickyAckMiddleware())
    app.use(_CleanTextMiddleware())
    app.use(_IdentifyMiddleware(deps))

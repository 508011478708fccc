"""One structured line per request: what was asked, by whom, the outcome and milliseconds.
Secrets and message texts are never logged: only ids and the names of things."""

from __future__ import annotations

import atexit
import json
import logging
import queue
from collections.abc import Sequence
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

log = logging.getLogger("vertaisbot.request")


class _Unformatted(QueueHandler):
    """Hands the record over as it is: formatting and writing happen on the writer's thread.
    (Request log records carry a finished message and no arguments or exceptions.)"""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def write_in_background(handlers: Sequence[logging.Handler]) -> QueueListener | None:
    """Send the request log's lines to `handlers` from a thread of their own.

    Written on the request thread, every line is a write and a flush of the log stream: a system
    call that gives up the GIL, which a busy server then waits to get back. Here the request
    thread only puts the record on a queue, and the standard library's QueueListener writes it.
    The queue is emptied at a normal exit; a killed process may lose its last few lines."""
    global _listener
    stop_background()
    if not handlers:
        return None
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(lines, *handlers, respect_handler_level=True)
    for handler in list(log.handlers):
        if isinstance(handler, _Unformatted):
            log.removeHandler(handler)
    log.addHandler(_Unformatted(lines))
    log.propagate = False
    listener.start()
    _listener = listener
    return listener


def stop_background() -> None:
    """Write what is queued and stop the writer's thread (at exit, and before a fork)."""
    global _listener
    listener, _listener = _listener, None
    if listener is not None:  # started when it was kept
        listener.stop()


_listener: QueueListener | None = None
atexit.register(stop_background)


LIBRARIES = ("slack_sdk", "slack_bolt")


def keep_libraries_quiet(root_level: int) -> None:
    """slack_sdk logs every Web API call's arguments (message texts, tokens) at DEBUG, and Bolt
    logs request bodies and answers at DEBUG: their loggers stay at INFO or above whatever
    LOG_LEVEL says."""
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.INFO, root_level))


def library_logger(name: str) -> logging.Logger:
    """The logger to hand to Bolt's App or a slack_sdk client (their public `logger` option),
    with a level of its own at INFO or above. Bolt copies the root's level onto its loggers, and
    slack_sdk logs a retried request's URL (a `response_url`) at INFO whenever its logger's own
    level is unset: both would pass what people type or where the bot answers them to the log."""
    logger = logging.getLogger(name)
    logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    return logger


class NotAboutUs(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused": Bolt reads
    SLACK_BOT_TOKEN from the environment by itself and, given the client the bot builds with the
    same token, said so at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def bolt_logger() -> logging.Logger:
    """The logger the bot hands to Bolt's App."""
    logger = library_logger("slack_bolt.App")
    if not any(isinstance(f, NotAboutUs) for f in logger.filters):
        logger.addFilter(NotAboutUs())
    return logger


def describe(req: BoltRequest) -> dict[str, Any]:
    body = req.body or {}
    kind = body.get("type") or ("command" if "command" in body else "unknown")
    name: str | None = None
    if kind == "command":
        name = body.get("command")
    elif kind == "block_actions":
        actions = body.get("actions") or [{}]
        name = actions[0].get("action_id") if isinstance(actions[0], dict) else None
    elif kind in ("view_submission", "view_closed"):
        name = (body.get("view") or {}).get("callback_id")
    elif kind == "block_suggestion":
        name = body.get("action_id")
    elif kind == "event_callback":
        name = (body.get("event") or {}).get("type")
    user = req.context.user_id
    return {"kind": kind, "name": name, "user": user, "team": req.context.team_id}


def log_request(req: BoltRequest, resp: BoltResponse | None, millis: float, error: str | None = None) -> None:
    record = describe(req)
    sub = req.context.get("subcommand")
    if sub:
        record["sub"] = sub
    if req.context.get("replayed"):
        record["replay"] = True
    retry = req.headers.get("x-slack-retry-num")
    if retry:
        record["retry"] = retry[0]
    record["status"] = resp.status if resp is not None else None
    record["ms"] = round(millis, 1)
    if error:
        record["error"] = error
    log.info(json.dumps(record, ensure_ascii=False))

"""One structured line per request: what was asked, by whom, the outcome and milliseconds.
Secrets and message texts are never logged: only ids and the names of things."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger("vertaisbot.request")


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

"""The envelope of a signed request, checked before Bolt reads it: Bolt indexes some fields
without looking (a view submission's `view.type` and `view.callback_id`, an action's
`action_id`), so a payload Slack would never send, signed all the same, ends inside Bolt as a
500. Only the envelope is checked here; what the fields say is the listeners' to judge."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

VIEW_TYPES = ("view_submission", "view_closed")


def well_formed(body: bytes, content_type: str) -> bool:
    """Is this a body whose envelope Bolt can route? (A form with a command or a JSON `payload`,
    or a JSON event.)"""
    try:
        if content_type.startswith("application/json"):
            return isinstance(json.loads(body or b"{}"), dict)
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return False
    if "payload" not in form:
        return True  # a slash command: Bolt reads it as a form of strings
    try:
        payload = json.loads(form["payload"][0])
    except ValueError:
        return False
    return isinstance(payload, dict) and _interactive(payload)


def _interactive(payload: dict[str, Any]) -> bool:
    kind = payload.get("type")
    if not isinstance(kind, str) or not _optional_dict(payload, "user"):
        return False
    if kind in VIEW_TYPES:
        view = payload.get("view")
        return (
            isinstance(view, dict)
            and all(isinstance(view.get(key), str) for key in ("type", "callback_id"))
            and _optional_dict(view, "state")
        )
    if kind == "block_actions":
        actions = payload.get("actions")
        return isinstance(actions, list) and all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
        )
    if kind == "block_suggestion":
        return isinstance(payload.get("action_id"), str)
    return True


def _optional_dict(parent: dict[str, Any], key: str) -> bool:
    return parent.get(key) is None or isinstance(parent.get(key), dict)

"""Signed requests in Slack's real shapes, built from the fixture files in tests/fixtures/slack."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    text: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def said(self) -> str:
        """All the texts of the ack body, as the user would read them."""
        return all_text(self.json()) if self.text else ""


class SlackClient:
    """Sends what Slack would send to the bot's /slack/events, signed with its secret."""

    def __init__(self, url: str, secret: str, response_url: str) -> None:
        self.url = url
        self.secret = secret
        self.response_url = response_url
        self._numbers = itertools.count(1)  # next() is atomic: tests may send from threads
        self.counter = 0  # the last number given out (a submission's view id follows its trigger)
        self.last: tuple[str, str] | None = None  # the last (body, content type) sent, for replays

    # --- raw sending --------------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        self.last = (body, content_type)
        signed = sign(self.secret, body, timestamp)
        if signature is not None:
            signed["X-Slack-Signature"] = signature
        request = urllib.request.Request(
            self.url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": content_type, **signed, **(headers or {})},
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return Reply(response.status, response.read().decode(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode(), time.perf_counter() - started)

    def form(self, fields: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    def interactive(self, payload: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(
            "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", **kwargs
        )

    def event_body(self, body: dict[str, Any], **kwargs: Any) -> Reply:
        return self.post(json.dumps(body), "application/json", **kwargs)

    def trigger_id(self) -> str:
        """A fresh trigger_id, as Slack gives every interaction (a replay repeats the old one)."""
        return self._trigger()

    def _trigger(self) -> str:
        number = self.counter = next(self._numbers)
        return f"{1700000000 + number}.1234567890.{number:032x}"

    # --- the shapes the bot receives ---------------------------------------------------
    def command(self, text: str, user: str = "U0VISITOR", command: str = "/vertais", **kwargs: Any) -> Reply:
        fields = fixture("slash_command")
        fields.update(
            text=text,
            user_id=user,
            user_name=user.lower(),
            command=command,
            trigger_id=self._trigger(),
            response_url=self.response_url,
        )
        return self.form(fields, **kwargs)

    def action(
        self,
        action_id: str,
        value: str = "",
        *,
        user: str = "U0VISITOR",
        block_id: str = "b",
        where: str = "message",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        channel: str | None = None,
        selected_date: str | None = None,
        **kwargs: Any,
    ) -> Reply:
        payload = fixture("block_actions_home" if where == "home" else "block_actions_message")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["trigger_id"] = self._trigger()
        payload["actions"][0].update(action_id=action_id, value=value, block_id=block_id)
        if selected_date is not None:  # a datepicker: its day, no value
            payload["actions"][0].pop("value", None)
            payload["actions"][0].update(type="datepicker", selected_date=selected_date)
        if where != "home":
            payload["response_url"] = self.response_url
            if message is not None:
                payload["message"] = copy.deepcopy(message)
                payload["container"]["message_ts"] = message.get("ts", payload["container"]["message_ts"])
            if channel is not None:  # the conversation the message is in (default: the visitor's DM)
                payload["container"]["channel_id"] = channel
                payload["channel"]["id"] = channel
        if view is not None:
            payload["view"] = dict(payload.get("view") or {}, **view)
        if state is not None:
            payload["state"] = {"values": state}
        return self.interactive(payload, **kwargs)

    def submit(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U0VISITOR",
        private_metadata: str = "",
        **kwargs: Any,
    ) -> Reply:
        payload = fixture("view_submission")
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
        payload["trigger_id"] = self._trigger()
        # each modal Slack opens has its own view id
        payload["view"].update(
            id=f"V{self.counter:08d}", callback_id=callback_id, private_metadata=private_metadata
        )
        payload["view"]["state"]["values"] = values
        return self.interactive(payload, **kwargs)

    def close_view(
        self, callback_id: str, *, user: str = "U0VISITOR", private_metadata: str = "", **kw: Any
    ) -> Reply:
        payload = fixture("view_closed")
        payload["user"].update(id=user)
        payload["view"].update(callback_id=callback_id, private_metadata=private_metadata)
        return self.interactive(payload, **kw)

    def suggest(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0VISITOR",
        block_id: str | None = None,
        callback_id: str = "placeholder",
        state: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Reply:
        payload = fixture("block_suggestion")
        payload["user"].update(id=user)
        payload.update(action_id=action_id, block_id=block_id or action_id, value=value)
        payload["view"]["callback_id"] = callback_id
        if state is not None:
            payload["view"]["state"] = {"values": state}
        return self.interactive(payload, **kwargs)

    def home_opened(self, user: str = "U0VISITOR", **kwargs: Any) -> Reply:
        body = fixture("app_home_opened")
        body["event"]["user"] = user
        body["event_id"] = f"Ev{next(self._numbers):010d}"
        return self.event_body(body, **kwargs)


# Values as Slack puts them in view.state.values -------------------------------------------
def text_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select_value(value: str | None, text: str = "x", kind: str = "static_select") -> dict[str, Any]:
    option = (
        None
        if value is None
        else {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}
    )
    return {"type": kind, "selected_option": option}


def date_value(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def user_value(value: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": value}


def all_text(obj: Any) -> str:
    """Every text a person would read in a message, view or ack body, joined by newlines."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and node.startswith("{"):
            try:
                walk(json.loads(node))
            except ValueError:
                pass

    walk(obj)
    return "\n".join(found)

"""How to answer a person outside an ack: through the response_url if Slack gave one, in a small
modal over the Home tab, else by direct message.

An answer is the last thing a listener does, after its change was saved: if one way to the
person fails (a 429, a 5xx, a time-out, a lost connection), the next is tried, and if none
works the failure is logged, never raised, so that nobody is asked to "try again" something that
was in fact saved."""

from __future__ import annotations

import logging
from http.client import HTTPException
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.i18n import Translator
from bot.views.blocks import modal

log = logging.getLogger(__name__)

# A failed call to Slack (Web API or response_url) rather than a bug of ours.
SLACK_FAILURES: tuple[type[BaseException], ...] = (SlackApiError, SlackClientError, OSError, HTTPException)


def respond_ok(respond: Respond, **message: Any) -> bool:
    """Post to the response_url; False if Slack did not take it (Bolt's respond returns an
    error status rather than raising it)."""
    try:
        response = respond(**message)
    except SLACK_FAILURES as exc:
        log.warning("response_url failed: %s", type(exc).__name__)
        return False
    status = getattr(response, "status_code", 200)
    if status != 200:
        log.warning("response_url answered %s", status)
        return False
    return True


def reply_to_user(
    client: WebClient,
    respond: Respond | None,
    body: dict[str, Any],
    message: dict[str, Any],
    t: Translator | None = None,
) -> bool:
    """Answer a button press or a submission so that only the person who pressed sees it.
    Returns whether any way reached them."""
    response_url = body.get("response_url") or next(
        (r.get("response_url") for r in body.get("response_urls") or [] if r.get("response_url")), None
    )
    payload = {k: v for k, v in message.items() if k != "response_type"}
    if response_url and respond is not None:
        if respond_ok(respond, response_type="ephemeral", replace_original=False, **payload):
            return True
    else:
        container = body.get("container") or {}
        trigger_id = body.get("trigger_id")
        on_home = container.get("type") == "view" and (body.get("view") or {}).get("type") == "home"
        if trigger_id and on_home and t is not None:
            # A press on the Home tab: answer where the person is looking.
            try:
                view = modal(
                    "notice", t("notice.title"), list(payload.get("blocks") or []), close=t("common.close")
                )
                client.views_open(trigger_id=trigger_id, view=view)
                return True
            except SLACK_FAILURES:
                pass  # the trigger has expired, or Slack failed: fall back to a direct message
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if not user_id:
        return False
    try:
        client.chat_postMessage(channel=user_id, **payload)
    except SLACK_FAILURES as exc:
        log.warning("could not answer %s: %s", user_id, type(exc).__name__)
        return False
    return True

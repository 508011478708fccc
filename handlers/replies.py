"""How to answer a person outside an ack: through the response_url if Slack gave one, else by DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient


def reply_to_user(
    client: WebClient, respond: Respond | None, body: dict[str, Any], message: dict[str, Any]
) -> None:
    """Answer a button press or a submission so that only the person who pressed sees it."""
    response_url = body.get("response_url") or next(
        (r.get("response_url") for r in body.get("response_urls") or [] if r.get("response_url")), None
    )
    payload = {k: v for k, v in message.items() if k != "response_type"}
    if response_url and respond is not None:
        respond(response_type="ephemeral", replace_original=False, **payload)
        return
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if user_id:
        client.chat_postMessage(channel=user_id, **payload)

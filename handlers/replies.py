"""How to answer a person outside an ack: through the response_url if Slack gave one, in a small
modal over the Home tab, else by direct message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import Translator
from bot.views.blocks import modal


def reply_to_user(
    client: WebClient,
    respond: Respond | None,
    body: dict[str, Any],
    message: dict[str, Any],
    t: Translator | None = None,
) -> None:
    """Answer a button press or a submission so that only the person who pressed sees it."""
    response_url = body.get("response_url") or next(
        (r.get("response_url") for r in body.get("response_urls") or [] if r.get("response_url")), None
    )
    payload = {k: v for k, v in message.items() if k != "response_type"}
    if response_url and respond is not None:
        respond(response_type="ephemeral", replace_original=False, **payload)
        return
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
            return
        except SlackApiError:
            pass  # the trigger has expired: fall back to a direct message
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    if user_id:
        client.chat_postMessage(channel=user_id, **payload)

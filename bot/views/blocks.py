"""Small constructors for Block Kit JSON, clipping every text to Slack's limits."""

from __future__ import annotations

from typing import Any

from bot.views import limits

Block = dict[str, Any]


def escape(text: str) -> str:
    """Make user-supplied text inert in mrkdwn: no mentions, links or broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = limits.SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": limits.clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = limits.SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": limits.clip(text, limit)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, limits.HEADER_TEXT)}


def section(text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def fields(*texts: str) -> Block:
    return {
        "type": "section",
        "fields": [mrkdwn(text, limits.FIELD_TEXT) for text in texts[: limits.SECTION_FIELDS]],
    }


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[: limits.CONTEXT_ELEMENTS]]}


def divider() -> Block:
    return {"type": "divider"}


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[: limits.ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id
    return block


def confirm(title: str, text: str, yes: str, no: str, *, danger: bool = False) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": plain(title, limits.CONFIRM_TITLE),
        "text": mrkdwn(text, limits.CONFIRM_TEXT),
        "confirm": plain(yes, limits.CONFIRM_BUTTON),
        "deny": plain(no, limits.CONFIRM_BUTTON),
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    confirm_dialog: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, limits.BUTTON_TEXT),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value[: limits.BUTTON_VALUE]
    if style:
        element["style"] = style
    if confirm_dialog:
        element["confirm"] = confirm_dialog
    return element


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"text": plain(text, limits.OPTION_TEXT), "value": value[: limits.OPTION_VALUE]}
    if description:
        result["description"] = plain(description, limits.OPTION_DESCRIPTION)
    return result


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, limits.INPUT_LABEL),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, limits.INPUT_LABEL)
    return block


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str = "",
    notify_on_close: bool = False,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, limits.VIEW_TITLE),
        "blocks": blocks[: limits.BLOCKS_PER_VIEW],
    }
    if submit:
        view["submit"] = plain(submit, limits.VIEW_BUTTON)
    if close:
        view["close"] = plain(close, limits.VIEW_BUTTON)
    if private_metadata:
        view["private_metadata"] = private_metadata
    if notify_on_close:
        view["notify_on_close"] = True
    return view


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message body: a plain fallback text (for notifications) and its blocks."""
    return {"text": limits.clip(text, 3000), "blocks": blocks[: limits.BLOCKS_PER_MESSAGE]}

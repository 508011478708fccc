"""Slack's documented Block Kit limits, and a checker the tests run over every payload."""

from __future__ import annotations

from typing import Any

BLOCKS_PER_MESSAGE = 50
BLOCKS_PER_VIEW = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
VIEW_TITLE = 24
VIEW_BUTTON = 24
PRIVATE_METADATA = 3000
ID_LENGTH = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
INPUT_LABEL = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
SELECT_OPTIONS = 100
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
PLACEHOLDER = 150
TEXT_INPUT_MAX = 3000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
MESSAGE_TEXT = 40000
RADIO_OPTIONS = 10


def clip(text: str, limit: int) -> str:
    """Shorten `text` to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class LimitError(AssertionError):
    pass


def _fail(path: str, message: str) -> None:
    raise LimitError(f"{path}: {message}")


def _text(obj: Any, path: str, limit: int) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        _fail(path, f"not a text object: {obj!r}"[:200])
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        _fail(path, "empty text")
    if len(text) > limit:
        _fail(path, f"{len(text)} characters > {limit}")


def _plain(obj: Any, path: str, limit: int) -> None:
    _text(obj, path, limit)
    if obj["type"] != "plain_text":
        _fail(path, "must be plain_text")


def check_option(option: dict[str, Any], path: str) -> None:
    _text(option.get("text"), f"{path}.text", OPTION_TEXT)
    value = option.get("value")
    if not isinstance(value, str) or len(value) > OPTION_VALUE:
        _fail(f"{path}.value", "missing or longer than 150")
    if "description" in option:
        _text(option["description"], f"{path}.description", OPTION_DESCRIPTION)


def check_options_response(body: dict[str, Any]) -> None:
    """A `block_suggestion` answer: options or option_groups, each within limits."""
    if "options" in body:
        options = body["options"]
        if len(options) > SELECT_OPTIONS:
            _fail("options", f"{len(options)} > {SELECT_OPTIONS}")
        for i, option in enumerate(options):
            check_option(option, f"options[{i}]")
    if "option_groups" in body:
        groups = body["option_groups"]
        if len(groups) > SELECT_OPTIONS:
            _fail("option_groups", f"{len(groups)} > {SELECT_OPTIONS}")
        total = 0
        for g, group in enumerate(groups):
            _plain(group.get("label"), f"option_groups[{g}].label", OPTION_TEXT)
            total += len(group["options"])
            if len(group["options"]) > SELECT_OPTIONS:
                _fail(f"option_groups[{g}]", "over 100 options")
            for i, option in enumerate(group["options"]):
                check_option(option, f"option_groups[{g}].options[{i}]")
        if total > SELECT_OPTIONS:
            _fail("option_groups", f"{total} options in all > {SELECT_OPTIONS}")


def _confirm(obj: dict[str, Any], path: str) -> None:
    _plain(obj.get("title"), f"{path}.title", CONFIRM_TITLE)
    _text(obj.get("text"), f"{path}.text", CONFIRM_TEXT)
    _plain(obj.get("confirm"), f"{path}.confirm", CONFIRM_BUTTON)
    _plain(obj.get("deny"), f"{path}.deny", CONFIRM_BUTTON)


def _element(element: dict[str, Any], path: str) -> None:
    kind = element.get("type")
    if "action_id" in element and len(element["action_id"]) > ID_LENGTH:
        _fail(path, "action_id over 255")
    if "placeholder" in element:
        _plain(element["placeholder"], f"{path}.placeholder", PLACEHOLDER)
    if "confirm" in element:
        _confirm(element["confirm"], f"{path}.confirm")
    if kind == "button":
        _plain(element.get("text"), f"{path}.text", BUTTON_TEXT)
        if len(element.get("value", "")) > BUTTON_VALUE:
            _fail(path, "button value over 2000")
        if element.get("style") not in (None, "primary", "danger"):
            _fail(path, "bad style")
    elif kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"):
        options = element.get("options") or []
        groups = element.get("option_groups") or []
        limit = RADIO_OPTIONS if kind in ("radio_buttons", "checkboxes") else SELECT_OPTIONS
        if kind == "overflow":
            limit = 5
        if not options and not groups:
            _fail(path, "no options")
        if len(options) > limit or len(groups) > SELECT_OPTIONS:
            _fail(path, f"{len(options)} options > {limit}")
        for i, option in enumerate(options):
            check_option(option, f"{path}.options[{i}]")
        for g, group in enumerate(groups):
            for i, option in enumerate(group["options"]):
                check_option(option, f"{path}.option_groups[{g}].options[{i}]")
    elif kind == "plain_text_input":
        if element.get("max_length", 1) > TEXT_INPUT_MAX or element.get("max_length", 1) < 1:
            _fail(path, "max_length outside 1..3000")
        if len(element.get("initial_value", "")) > element.get("max_length", TEXT_INPUT_MAX):
            _fail(path, "initial_value longer than max_length")
    for key in ("initial_option",):
        if key in element:
            check_option(element[key], f"{path}.{key}")
    for i, option in enumerate(element.get("initial_options", [])):
        check_option(option, f"{path}.initial_options[{i}]")


def check_blocks(blocks: list[dict[str, Any]], limit: int, path: str = "blocks") -> None:
    if len(blocks) > limit:
        _fail(path, f"{len(blocks)} blocks > {limit}")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{path}[{i}]({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > ID_LENGTH:
                _fail(where, "block_id over 255")
            if block_id in seen_ids:
                _fail(where, f"block_id {block_id!r} repeats")
            seen_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                _fail(where, "section needs text or fields")
            if "text" in block:
                _text(block["text"], f"{where}.text", SECTION_TEXT)
            fields = block.get("fields", [])
            if len(fields) > SECTION_FIELDS:
                _fail(where, "more than 10 fields")
            for f, field in enumerate(fields):
                _text(field, f"{where}.fields[{f}]", FIELD_TEXT)
            if "accessory" in block:
                _element(block["accessory"], f"{where}.accessory")
        elif kind == "header":
            _plain(block.get("text"), f"{where}.text", HEADER_TEXT)
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                _fail(where, f"{len(elements)} elements")
            action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                _fail(where, "action_id repeats within the block")
            for e, element in enumerate(elements):
                _element(element, f"{where}.elements[{e}]")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
                _fail(where, f"{len(elements)} context elements")
            for e, element in enumerate(elements):
                if element.get("type") in ("plain_text", "mrkdwn"):
                    _text(element, f"{where}.elements[{e}]", SECTION_TEXT)
        elif kind == "input":
            _plain(block.get("label"), f"{where}.label", INPUT_LABEL)
            if "hint" in block:
                _plain(block["hint"], f"{where}.hint", INPUT_LABEL)
            _element(block.get("element", {}), f"{where}.element")
        elif kind in ("divider", "image", "file", "rich_text", "markdown", "table", "video"):
            pass
        else:
            _fail(where, f"unknown block type {kind!r}")


def check_message(message: dict[str, Any]) -> None:
    """A chat message or ephemeral response body."""
    blocks = message.get("blocks") or []
    check_blocks(blocks, BLOCKS_PER_MESSAGE)
    text = message.get("text")
    if blocks and not text:
        _fail("text", "messages with blocks need a fallback text for notifications")
    if text and len(text) > MESSAGE_TEXT:
        _fail("text", "over 40,000 characters")


def check_view(view: dict[str, Any]) -> None:
    """A modal or Home tab."""
    kind = view.get("type")
    blocks = view.get("blocks") or []
    if not blocks:
        _fail("view", "views must contain between 1 and 100 blocks")
    check_blocks(blocks, BLOCKS_PER_VIEW, "view.blocks")
    if kind == "modal":
        _plain(view.get("title"), "view.title", VIEW_TITLE)
        if "submit" in view:
            _plain(view["submit"], "view.submit", VIEW_BUTTON)
        elif any(block.get("type") == "input" for block in blocks):
            _fail("view", "must define submit to use input block")
        if "close" in view:
            _plain(view["close"], "view.close", VIEW_BUTTON)
    elif kind == "home":
        if "submit" in view or "close" in view:
            _fail("view", "home view cannot have submit and close")
    else:
        _fail("view", f"unknown view type {kind!r}")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA:
        _fail("view", "private_metadata over 3000")
    if len(view.get("callback_id", "")) > ID_LENGTH:
        _fail("view", "callback_id over 255")

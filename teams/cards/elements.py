"""Slack blocks (bot/views) → Adaptive Card elements: sections, fields, context, images, and the buttons
and selects of an actions block as card actions (Action.Execute, or a dialog's task/fetch).

Pure functions; unknown or malformed blocks are skipped, never raised on."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    Column,
    ColumnSet,
    ExecuteAction,
    Fact,
    FactSet,
    Image,
    OpenUrlAction,
    SubmitAction,
    TextBlock,
)

from teams.cards.mrkdwn import MISSING, dict_of, list_of, mrkdwn_text, plain_of, str_of, text_of

MAX_ACTIONS_PER_SET = 6


# --- buttons and actions --------------------------------------------------------------------------------


def _button(element: Mapping[str, Any], dialogs: Collection[str]) -> Any | None:
    # Slack's `style` is dropped (Teams does not support positive/destructive styling), and so is a
    # `confirm` object: Adaptive Cards have no confirmation step; the handlers re-check the state anyway.
    title = plain_of(element.get("text")) or "…"
    url = str_of(element.get("url"))
    if url:
        return OpenUrlAction(title=title, url=url)
    action_id = str_of(element.get("action_id"))
    if not action_id:
        return None
    value = str_of(element.get("value"))
    if action_id in dialogs:
        return SubmitAction(
            title=title, data={"msteams": {"type": "task/fetch"}, "action_id": action_id, "value": value}
        )
    return ExecuteAction(title=title, verb=action_id, data={"action_id": action_id, "value": value})


def _option_actions(element: Mapping[str, Any], dialogs: Collection[str]) -> list[Any]:
    """A static_select or overflow in an actions block: one action per option."""
    action_id = str_of(element.get("action_id"))
    if not action_id:
        return []
    found = []
    for option in options_of(element):
        button = {"text": option.get("text"), "action_id": action_id, "value": option.get("value")}
        if option.get("url"):
            button["url"] = option["url"]
        action = _button(button, dialogs)
        if action is not None:
            found.append(action)
    return found


def options_of(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = [dict_of(o) for o in list_of(element.get("options"))]
    for group in list_of(element.get("option_groups")):
        options.extend(dict_of(o) for o in list_of(dict_of(group).get("options")))
    return [o for o in options if isinstance(o.get("value"), str)]


def _action_sets(actions: list[Any]) -> list[ActionSet]:
    return [
        ActionSet(actions=actions[i : i + MAX_ACTIONS_PER_SET])
        for i in range(0, len(actions), MAX_ACTIONS_PER_SET)
    ]


# --- blocks → card elements -------------------------------------------------------------------------


def _is_fact(text: str) -> bool:
    head, newline, _ = text.partition("\n")
    return bool(newline) and len(head) > 2 and head.startswith("*") and head.endswith("*")


def _fields(fields: list[Any], names: Mapping[str, str] | None) -> list[Any]:
    texts = [str_of(dict_of(f).get("text")) for f in fields]
    texts = [t for t in texts if t]
    if not texts:
        return []
    if all(_is_fact(t) for t in texts):
        facts = []
        for t in texts:
            head, _, value = t.partition("\n")
            facts.append(
                Fact(title=mrkdwn_text(head[1:-1], names), value=mrkdwn_text(value, names) or MISSING)
            )
        return [FactSet(facts=facts)]
    columns = [
        Column(width="stretch", items=[TextBlock(text=mrkdwn_text(t, names), wrap=True)]) for t in texts
    ]
    return [ColumnSet(columns=columns[i : i + 2]) for i in range(0, len(columns), 2)]


def block_elements(
    block: Mapping[str, Any], names: Mapping[str, str] | None, dialogs: Collection[str], *, in_dialog: bool
) -> list[Any]:
    kind = block.get("type")
    if kind == "header":
        text = plain_of(block.get("text"))
        return [TextBlock(text=text, weight="Bolder", size="Medium", wrap=True)] if text else []
    if kind == "section":
        found: list[Any] = []
        text = text_of(block.get("text"), names)
        if text:
            found.append(TextBlock(text=text, wrap=True))
        found.extend(_fields(list_of(block.get("fields")), names))
        accessory = dict_of(block.get("accessory"))
        if not in_dialog and accessory.get("type") == "button":
            action = _button(accessory, dialogs)
            if action is not None:
                found.append(ActionSet(actions=[action]))
        elif not in_dialog and accessory.get("type") == "image" and accessory.get("image_url"):
            found.append(
                Image(url=str_of(accessory.get("image_url")), alt_text=str_of(accessory.get("alt_text")))
            )
        return found
    if kind == "context":
        parts = []
        for element in list_of(block.get("elements")):
            element = dict_of(element)
            if element.get("type") in ("mrkdwn", "plain_text"):
                parts.append(text_of(element, names))
        text = "  ".join(p for p in parts if p)
        return [TextBlock(text=text, wrap=True, size="Small", is_subtle=True)] if text else []
    if kind == "image":
        url = str_of(block.get("image_url"))
        return [Image(url=url, alt_text=str_of(block.get("alt_text")))] if url else []
    if kind == "actions" and not in_dialog:
        actions: list[Any] = []
        for element in list_of(block.get("elements")):
            element = dict_of(element)
            if element.get("type") == "button":
                action = _button(element, dialogs)
                if action is not None:
                    actions.append(action)
            elif element.get("type") in ("static_select", "overflow"):
                actions.extend(_option_actions(element, dialogs))
        return _action_sets(actions)
    return []


def compact(elements: list[Any]) -> list[Any]:
    """Merge consecutive plain TextBlocks (same look, no separator) into one: a smaller card."""
    merged: list[Any] = []
    for element in elements:
        last = merged[-1] if merged else None
        if (
            isinstance(element, TextBlock)
            and isinstance(last, TextBlock)
            and _plain_look(element)
            and _plain_look(last)
            and not element.separator
        ):
            last.text = f"{last.text}\n\n{element.text}"
            continue
        merged.append(element)
    return merged


def _plain_look(block: TextBlock) -> bool:
    return block.weight is None and block.size is None and block.is_subtle is None and block.color is None


def blocks_body(
    blocks: Iterable[Any], names: Mapping[str, str] | None, dialogs: Collection[str], *, in_dialog: bool
) -> list[Any]:
    body: list[Any] = []
    separate = False
    for block in blocks:
        block = dict_of(block)
        if block.get("type") == "divider":
            separate = bool(body)
            continue
        elements = block_elements(block, names, dialogs, in_dialog=in_dialog)
        if elements and separate:
            elements[0].separator = True
            separate = False
        body.extend(elements)
    return body

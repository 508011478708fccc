"""Teams' limits for the cards we send (docs: /work/shared/TEAMS.md §4), and a checker the tests run."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    ChoiceSetInput,
    Column,
    ColumnSet,
    Container,
    DateInput,
    ExecuteAction,
    FactSet,
    Image,
    ImageSet,
    NumberInput,
    OpenUrlAction,
    RichTextBlock,
    ShowCardAction,
    SubmitAction,
    Table,
    TextBlock,
    TextInput,
    TimeInput,
    ToggleInput,
    ToggleVisibilityAction,
)
from pydantic import BaseModel, ValidationError

MAX_CARD_BYTES = 28 * 1024  # safe on every path (bot messages, webhooks, Workflows)
MAX_ACTIONS = 6  # per ActionSet, and at the card's top level
VERSION = "1.5"  # the newest Teams renders

ELEMENT_TYPES = frozenset(
    {
        "TextBlock",
        "RichTextBlock",
        "TextRun",
        "Image",
        "ImageSet",
        "Media",
        "FactSet",
        "Container",
        "ColumnSet",
        "Column",
        "ActionSet",
        "Table",
        "TableRow",
        "TableCell",
        "Input.Text",
        "Input.Number",
        "Input.Date",
        "Input.Time",
        "Input.Toggle",
        "Input.ChoiceSet",
    }
)
ACTION_TYPES = frozenset(
    {"Action.Execute", "Action.Submit", "Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility"}
)
# Each element and action is also validated against its own SDK model (the card's model takes its body
# as generic elements, so it would let a TextBlock of size "Huge" through).
MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model
    for model in (
        TextBlock,
        RichTextBlock,
        Image,
        ImageSet,
        FactSet,
        Container,
        ColumnSet,
        Column,
        ActionSet,
        Table,
        TextInput,
        NumberInput,
        DateInput,
        TimeInput,
        ToggleInput,
        ChoiceSetInput,
        ExecuteAction,
        SubmitAction,
        OpenUrlAction,
        ShowCardAction,
        ToggleVisibilityAction,
    )
}
# where elements and actions nest in Adaptive Cards 1.5
_ELEMENT_LISTS = ("body", "items", "columns", "rows", "cells", "inlines", "images")
_ACTION_LISTS = ("actions",)
_ACTION_FIELDS = ("selectAction", "inlineAction")


def card_bytes(card: Mapping[str, Any]) -> int:
    """The card's size as sent: UTF-8, compact JSON."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """Every (kind, path, object) below `node`: kind is "element" or "action"."""
    if not isinstance(node, Mapping):
        return
    for key in _ELEMENT_LISTS:
        for i, child in enumerate(node.get(key) or []):
            where = f"{path}.{key}[{i}]"
            yield "element", where, child
            yield from _walk(child, where)
    for key in _ACTION_LISTS:
        for i, child in enumerate(node.get(key) or []):
            where = f"{path}.{key}[{i}]"
            yield "action", where, child
            yield from _walk(child, where)
    for key in _ACTION_FIELDS:
        if isinstance(node.get(key), Mapping):
            yield "action", f"{path}.{key}", node[key]
    card = node.get("card")  # Action.ShowCard's card
    if isinstance(card, Mapping):
        yield from _walk(card, f"{path}.card")


def check_card(card: Mapping[str, Any]) -> list[str]:
    """What Teams would reject or mis-render in `card` (an Adaptive Card as JSON); empty when it fits."""
    if not isinstance(card, Mapping):
        return ["card: not an object"]
    problems: list[str] = []
    if card.get("type") != "AdaptiveCard":
        problems.append(f"card: type {card.get('type')!r} is not 'AdaptiveCard'")
    if card.get("version") != VERSION:
        problems.append(f"card: version {card.get('version')!r} is not {VERSION!r}")
    try:
        size = card_bytes(card)
    except (TypeError, ValueError) as exc:
        problems.append(f"card: not JSON ({exc})")
    else:
        if size > MAX_CARD_BYTES:
            problems.append(f"card: {size} bytes > {MAX_CARD_BYTES}")
    if len(card.get("actions") or []) > MAX_ACTIONS:
        problems.append(f"card.actions: {len(card['actions'])} actions > {MAX_ACTIONS}")
    for kind, where, node in _walk(card, "card"):
        if not isinstance(node, Mapping):
            problems.append(f"{where}: not an object")
            continue
        type_ = node.get("type")
        if kind == "element":
            if type_ not in ELEMENT_TYPES:
                problems.append(f"{where}: element type {type_!r} is not in Adaptive Cards 1.5 for Teams")
            if type_ == "ActionSet" and len(node.get("actions") or []) > MAX_ACTIONS:
                problems.append(f"{where}: {len(node['actions'])} actions > {MAX_ACTIONS}")
        else:
            if type_ not in ACTION_TYPES:
                problems.append(f"{where}: action type {type_!r} is not in Adaptive Cards 1.5 for Teams")
            if node.get("style") in ("positive", "destructive"):
                problems.append(f"{where}: {node['style']} styling is not supported in Teams")
        model = MODELS.get(type_) if isinstance(type_, str) else None
        if model is not None:
            try:
                model.model_validate(node)
            except ValidationError as exc:
                problems.append(f"{where}: the SDK's {model.__name__} rejects it: {exc}"[:1000])
    try:
        AdaptiveCard.model_validate(card)
    except ValidationError as exc:
        problems.append(f"card: the SDK's model rejects it: {exc}"[:2000])
    return problems


def assert_fits(card: Mapping[str, Any]) -> None:
    """Raise AssertionError listing the problems, if `card` would not fit Teams."""
    problems = check_card(card)
    if problems:
        raise AssertionError("\n".join(problems))
